// `npm test`: every test level, in order of cost. Unit tests need nothing; the other levels share
// one real control plane (started by Jest global setup) and start ARM emulators as they need.
import { spawnSync } from "node:child_process";

const jest = [
  "--disable-warning=ExperimentalWarning",
  "--experimental-vm-modules",
  "node_modules/jest/bin/jest.js",
];
const levels = [
  ["--selectProjects", "unit"],
  ["--selectProjects", "integration", "e2e", "--runInBand"],
];
let failed = false;
for (const args of levels) {
  const r = spawnSync(process.execPath, [...jest, ...args, ...process.argv.slice(2)], { stdio: "inherit" });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
