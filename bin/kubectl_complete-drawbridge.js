#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// kubectl (1.26+) runs `kubectl_complete-drawbridge <words...>` to complete `kubectl drawbridge <TAB>`.
import { runAccess } from "../src/cli/access/main.ts";

process.exitCode = await runAccess(["__complete", ...process.argv.slice(2)], {
  ipEchoUrls: undefined,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
