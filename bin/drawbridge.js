#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// Entry point: Node.js 24 runs the TypeScript sources directly (type stripping), so there is
// no build step between the repository and the running operator.
import { main } from "../src/cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
