#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// Entry point of the benchmarks (`npm run bench -- [flags]`). The benchmarks ship with the source
// repository, not the image, so they have their own entry instead of a `drawbridge` command.
import { run } from "./cli.ts";

process.exitCode = await run(process.argv.slice(2));
