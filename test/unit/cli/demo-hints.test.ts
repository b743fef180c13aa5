// `make demo` must leave a new user one line away from an open rule: the plugin linked on PATH and
// the `kubectl drawbridge request ... --my-ip --wait` line printed.
import { describe, expect, it } from "@jest/globals";
import { accessSync, constants, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ControlPlane } from "../../../src/controlplane/index.ts";
import type { RunningEmulator } from "../../../src/emulator/index.ts";
import { instructions } from "../../../src/demo/instructions.ts";
import { installPlugin } from "../../../src/demo/plugin.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");

describe("demo hints", () => {
  it("links the plugin under the kubectl name and prints the one-line request", () => {
    const dir = mkdtempSync(join(tmpdir(), "demo-plugin-"));
    try {
      const path = installPlugin(ROOT, dir, process.execPath);
      const link = join(dir, "plugins", "kubectl-drawbridge");
      expect(realpathSync(link)).toBe(join(ROOT, "bin", "kubectl-drawbridge.js"));
      accessSync(link, constants.X_OK);
      // Idempotent: a second demo start replaces the link.
      expect(installPlugin(ROOT, dir, process.execPath)).toBe(path);
      const text = instructions({
        root: ROOT,
        plane: { binDir: "/bin", kubeconfigs: { alice: "/a", bob: "/b" } } as unknown as ControlPlane,
        emulator: { caFile: "/ca", endpoint: "https://e" } as unknown as RunningEmulator,
        ports: { metrics: 1, health: 2 },
        nsgId: "nsg",
        operatorLog: "/log",
        refusals: { forgedRequester: "x", outOfScopePolicy: "y" },
        pluginPath: path,
      });
      expect(text).toContain(`export PATH=${path}:$PATH`);
      expect(text).toMatch(
        /kubectl drawbridge request web-admin --port 3389 --my-ip --for 1h .* --wait -n team-a/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
