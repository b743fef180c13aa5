// State survives restarts (clean or killed), and the CLI runs the emulator standalone.
import { afterEach, describe, expect, jest, test } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../../../src/emulator/index.ts";

// Each CLI start is a fresh Node process; allow for a loaded machine.
jest.setTimeout(60_000);
import { API, call, NSG_PATH, REPO_ROOT, ruleBody, SEED_FILE } from "./support.ts";

const dirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "emulator-test-"));
  dirs.push(d);
  return d;
}

interface Cli {
  child: ChildProcess;
  endpoint: string;
  caFile: string;
  exited: Promise<number | null>;
}

function startCli(args: string[]): Promise<Cli> {
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(REPO_ROOT, "bin/drawbridge.js"), "emulator", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", resolve);
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const endpoint = /ARM_ENDPOINT=(\S+)/.exec(out)?.[1];
      const caFile = /ARM_CA_FILE=(\S+)/.exec(out)?.[1];
      if (endpoint !== undefined && caFile !== undefined) resolve({ child, endpoint, caFile, exited });
    });
    void exited.then((c) => {
      reject(new Error(`emulator exited with ${String(c)}: ${err}`));
    });
  });
}

describe("persistence", () => {
  test("a clean restart with the same state dir keeps NSGs, rules and the CA", async () => {
    const dir = tempDir();
    const first = await startEmulator({ seedFile: SEED_FILE, stateDir: dir, throttle: false });
    const put = await call(
      first.endpoint,
      first.caPem,
      "PUT",
      `${NSG_PATH}/jump-nsg/securityRules/drawbridge-p?${API}`,
      { body: ruleBody(100) },
    );
    expect(put.status).toBe(201);
    await call(
      first.endpoint,
      first.caPem,
      "DELETE",
      `${NSG_PATH}/jump-nsg/securityRules/allow-https?${API}`,
    );
    const etag = (first.getNsgDocument(`${NSG_PATH}/jump-nsg`) as { etag: string }).etag;
    const ca = first.caPem;
    await first.close();

    const second = await startEmulator({ stateDir: dir, throttle: false });
    try {
      expect(second.caPem).toBe(ca);
      const nsg = await call(second.endpoint, second.caPem, "GET", `${NSG_PATH}/jump-nsg?${API}`);
      const body = nsg.body as { etag: string; properties: { securityRules: { name: string }[] } };
      expect(body.etag).toBe(etag);
      expect(body.properties.securityRules.map((r) => r.name)).toContain("drawbridge-p");
      expect(body.properties.securityRules.map((r) => r.name)).not.toContain("allow-https");
      const vm = await call(
        second.endpoint,
        second.caPem,
        "GET",
        `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/web-1?${API}`,
      );
      expect(vm.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  test("the CLI prints the endpoint and CA, loses nothing when killed, and exits 0 on SIGTERM", async () => {
    const dir = tempDir();
    const first = await startCli([
      "--listen",
      "127.0.0.1:0",
      "--seed",
      SEED_FILE,
      "--state-dir",
      dir,
      "--no-throttle",
    ]);
    expect(first.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.caFile).toBe(join(dir, "ca.pem"));
    const ca = readFileSync(first.caFile, "utf8");
    const put = await call(
      first.endpoint,
      ca,
      "PUT",
      `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-k?${API}`,
      { body: ruleBody(105) },
    );
    expect(put.status).toBe(201);
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await startCli(["--seed", SEED_FILE, "--state-dir", dir]);
    const rule = await call(
      second.endpoint,
      ca,
      "GET",
      `${NSG_PATH}/web-1-nic-nsg/securityRules/drawbridge-k?${API}`,
    );
    expect(rule.status).toBe(200);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  test("bad flags exit 2 with a message naming the flag", async () => {
    const child = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        join(REPO_ROOT, "bin/drawbridge.js"),
        "emulator",
        "--fault-500",
        "3",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(child);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const codeNum = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(codeNum).toBe(2);
    expect(err).toContain("--fault-500");
  });
});
