// Starts a control plane (no CRDs), prints its state dir and waits to be killed: lets a test check
// what happens to the daemons when their owner dies without cleaning up.
import { startControlPlane } from "../../src/controlplane/index.ts";

const [stateDir, crdsDir, binDir] = process.argv.slice(2);
if (stateDir === undefined || crdsDir === undefined || binDir === undefined) {
  process.stderr.write("usage: hold-plane.ts <state-dir> <crds-dir> <bin-dir>\n");
  process.exit(2);
}
const plane = await startControlPlane({ stateDir, crdsDir, binDir });
process.stdout.write(`${plane.stateDir}\n`);
setInterval(() => undefined, 60_000);
