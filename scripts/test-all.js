// `npm test`: every test level, in order of cost. Unit tests need nothing; the other projects
// (integration, e2e, ...) share one real control plane (started by Jest global setup,
// test/support/global-setup.ts) and start ARM emulators as they need. The control-plane binaries
// are built (first time only, minutes) before any test runs, so that cost shows up as its own step.
// Extra arguments go to every level: `npm test -- crds` runs the tests whose path matches "crds".
import { spawn } from "node:child_process";

const jest = [
  "--disable-warning=ExperimentalWarning",
  "--experimental-vm-modules",
  "node_modules/jest/bin/jest.js",
];
// Every project but `unit` shares the control plane, so they run together in one Jest run.
const { default: config } = await import("../jest.config.js");
const clusterProjects = config.projects.map((p) => p.displayName).filter((name) => name !== "unit");
const extra = process.argv.slice(2);
// With a path pattern some level may have no matching test; that is not a failure.
const patternFlags = extra.length > 0 ? ["--passWithNoTests"] : [];
// `--injectGlobals` (the default anyway) ends --selectProjects' list, which would swallow a pattern.
const steps = [
  { name: "control-plane binaries", command: "bash", args: ["tools/controlplane/build.sh"] },
  // crdvalidate, kstatus, lua: small Go helpers the gitops tests run (cached like the control plane).
  { name: "Go helpers", command: "bash", args: ["tools/build-helpers.sh"] },
  {
    name: "unit",
    command: process.execPath,
    args: [...jest, "--selectProjects", "unit", "--injectGlobals", ...patternFlags, ...extra],
  },
  {
    name: clusterProjects.join(" + "),
    command: process.execPath,
    args: [...jest, "--selectProjects", ...clusterProjects, "--runInBand", ...patternFlags, ...extra],
  },
];

let current;
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    interrupted = true;
    // Jest's global setup stops the control plane on these signals; wait for it to finish.
    current?.kill(signal);
  });
}

let failed = false;
for (const step of steps) {
  const code = await new Promise((resolve) => {
    current = spawn(step.command, step.args, { stdio: ["ignore", "inherit", "inherit"] });
    current.once("error", (error) => {
      process.stderr.write(`test-all: ${step.name}: ${error.message}\n`);
      resolve(1);
    });
    current.once("close", (code, signal) => {
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  if (interrupted) process.exit(130);
  if (code !== 0) {
    process.stderr.write(`test-all: ${step.name} failed (exit ${code})\n`);
    failed = true;
    if (step.name === "control-plane binaries" || step.name === "Go helpers") break;
  }
}
process.exit(failed ? 1 : 0);
