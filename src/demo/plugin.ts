// The kubectl plugin for the demo: kubectl finds plugins by their exact name on PATH, so the demo
// links bin/kubectl-drawbridge.js as <state dir>/plugins/kubectl-drawbridge and prints the PATH to use
// (with this Node.js first, since the plugin runs the TypeScript sources on Node.js 24).
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/** Links the plugin under `stateDir`; returns the PATH prefix that makes `kubectl drawbridge` work. */
export function installPlugin(root: string, stateDir: string, nodePath: string): string {
  const dir = join(stateDir, "plugins");
  mkdirSync(dir, { recursive: true });
  const link = join(dir, "kubectl-drawbridge");
  rmSync(link, { force: true });
  symlinkSync(join(root, "bin", "kubectl-drawbridge.js"), link);
  return [dir, dirname(nodePath)].join(delimiter);
}
