#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// kubectl plugin entry point: on PATH as `kubectl-drawbridge`, it runs as `kubectl drawbridge ...`.
import { runAccess } from "../src/cli/access/main.ts";

process.exitCode = await runAccess(process.argv.slice(2), {
  ipEchoUrls: process.env.DRAWBRIDGE_IP_ECHO_URLS,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
