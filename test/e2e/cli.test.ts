// The engineer's CLI end to end: the real kubectl finds `kubectl-drawbridge` on PATH and runs it as
// alice against the real API server, emulator and operator. --my-ip is answered by a local HTTP echo
// server. A renewal (extend) must keep the allow rule in place throughout: NSG reads never see it
// missing, and no NSG takes more than one ARM write for the hand-over.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { FINALIZER } from "../../src/api/types.ts";
import { FIELD_MANAGER } from "../../src/cli/access/client.ts";
import { PluginDir } from "./plugin.ts";
import type { Run } from "./plugin.ts";
import { ALL_NSGS, JUMP_NSG, NIC_NSG, SUBNET_NSG, Stack, eventually } from "./harness.ts";

const MY_IP = "100.20.30.40";
const SOURCE = `${MY_IP}/32`;
let stack: Stack;
let echo: Server;
let echoBase: string;
let plugin: PluginDir;

/** `kubectl <args>` as alice, with the plugin directory first on PATH. */
function kubectl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return plugin.kubectl(stack, "alice", args, env);
}

/** The names of alice's requests, through the plugin. */
async function names(): Promise<string[]> {
  const out = (await drawbridge(["list", "-o", "json"])).stdout;
  return (JSON.parse(out) as { metadata: { name: string } }[]).map((r) => r.metadata.name);
}

function drawbridge(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return kubectl(["drawbridge", ...args, "-n", stack.ns], env);
}

beforeAll(async () => {
  echo = createServer((req, res) => {
    const body =
      req.url === "/malformed"
        ? "<html>your ip is 100.20.30.40</html>"
        : req.url === "/private"
          ? "10.1.2.3\n"
          : `${MY_IP}\n`;
    res.writeHead(200, { "content-type": "text/plain" }).end(body);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoBase = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  plugin = new PluginDir();
  stack = await Stack.start("cli");
  // One open request per requester: a renewal must not count the request it renews.
  stack.startOperator({ extraArgs: ["--max-open-requests-per-requester=1"] });
  // One renewal per grant, and at most two hours per chain from the original start.
  await stack.applyPolicy((doc) => {
    Object.assign(doc.spec as Record<string, unknown>, { maxRenewals: 1, maxTotalDuration: "PT2H" });
  });
}, 120_000);

afterAll(async () => {
  await stack.stop();
  await new Promise((r) => echo.close(r));
  plugin.remove();
});

/**
 * Whether the CLI's create call itself set drawbridge's finalizer (ADR 0022): the CLI's own entry
 * in managedFields owns metadata.finalizers. Added later by the operator, it would be the
 * operator's (client-node's default manager name).
 */
async function finalizerSetAtCreate(name: string): Promise<boolean> {
  const out = await stack.kubectlOk([
    ...["get", "accessrequest", name, "-n", stack.ns, "-o", "json", "--show-managed-fields"],
  ]);
  const meta = (JSON.parse(out) as { metadata: { finalizers?: string[]; managedFields?: unknown[] } })
    .metadata;
  const fields = (meta.managedFields ?? []) as { manager?: string; fieldsV1?: unknown }[];
  const created = fields.find((f) => f.manager === FIELD_MANAGER)?.fieldsV1 as
    { "f:metadata"?: Record<string, unknown> } | undefined;
  return (
    created?.["f:metadata"]?.["f:finalizers"] !== undefined && (meta.finalizers ?? []).includes(FINALIZER)
  );
}

function allowed(): boolean[] {
  return [NIC_NSG, SUBNET_NSG, JUMP_NSG].map((id) => stack.allowsFor(id, 3389, SOURCE).length > 0);
}

// Each step runs kubectl and a Node.js plugin process, slow on a loaded machine.
jest.setTimeout(60_000);

describe("kubectl drawbridge", () => {
  let first = "";
  let second = "";

  it("is discovered by kubectl as a plugin", async () => {
    const r = await kubectl(["plugin", "list"]);
    expect(r.stdout).toContain(join(plugin.path, "kubectl-drawbridge"));
    const help = await kubectl(["drawbridge", "--help"]);
    expect({ code: help.code, stderr: help.stderr }).toMatchObject({ code: 0 });
    expect(help.stdout).toContain("usage: kubectl drawbridge <command>");
  });

  it("lists what alice may open", async () => {
    const r = await drawbridge(["policies"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/web-admin\s+web-1,jump-nsg\s+3389\/TCP\s+PT1H/);
  });

  it("requests RDP for her detected IP and waits until Active, then says how to connect", async () => {
    await eventually(
      "policy resolved",
      async () => {
        const out = await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]);
        return (JSON.parse(out) as { status?: { targets?: unknown[] } }).status?.targets !== undefined;
      },
      120_000,
    );
    const r = await drawbridge(
      [
        "request",
        "web-admin",
        "--port",
        "3389",
        "--my-ip",
        "--for",
        "45m",
        "--reason",
        "INC-4711 reboot",
        "--wait",
      ],
      { DRAWBRIDGE_IP_ECHO_URLS: `http://127.0.0.1:1/unreachable,${echoBase}/` },
    );
    expect(r.stderr).toContain(`your public address: ${SOURCE}`);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    first = /accessrequest (\S+) created/.exec(r.stdout)?.[1] ?? "";
    expect(r.stderr).toContain(`${first}: Active`);
    expect(r.stdout).toContain("Active until");
    expect(r.stdout).toContain("mstsc /v:10.0.1.4");
    const req = await stack.getRequest(first);
    const spec = (req as unknown as { spec: Record<string, unknown> }).spec;
    // Filled from SelfSubjectReview, the duration in the API's form.
    expect(spec).toMatchObject({ requester: "alice", sourceAddressPrefix: SOURCE, duration: "PT45M" });
    expect(await finalizerSetAtCreate(first)).toBe(true);
    expect(allowed()).toEqual([true, true, true]);
  }, 120_000);

  it("refuses before creating what the policy does not allow, with the operator's message", async () => {
    const before = await names();
    const r = await drawbridge([
      "request",
      "web-admin",
      "--port",
      "3389",
      "--my-ip",
      "--for",
      "2h",
      "--reason",
      "x",
      "--ip-echo-url",
      `${echoBase}/`,
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 3 });
    expect(r.stderr).toContain(
      "spec.duration PT2H exceeds the maximum PT1H of port 3389/TCP in policy web-admin",
    );
    expect((await names()).filter((n) => !before.includes(n))).toEqual([]);
  });

  it("extends without the allow rule ever closing, in at most one ARM write per NSG", async () => {
    const sinceLog = stack.emulator.writeLog().length;
    const writesBefore = stack.emulator.stats().writes;
    const gaps: string[] = [];
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        const a = allowed();
        if (a.includes(false)) gaps.push(`${new Date().toISOString()} ${JSON.stringify(a)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const r = await drawbridge(["extend", first, "--for", "30m", "--wait"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    second = /accessrequest (\S+) created/.exec(r.stdout)?.[1] ?? "";
    await eventually("older Superseded", async () => (await stack.phaseOf(first)) === "Superseded", 30_000);
    // Past the hand-over, give a late write the chance to show.
    await new Promise((res) => setTimeout(res, 2000));
    sampling.on = false;
    await sampler;
    expect(gaps).toEqual([]);
    const log = stack.emulator.writeLog().slice(sinceLog);
    const perNsg = ALL_NSGS.map((id) => log.filter((e) => e.nsgId.toLowerCase() === id.toLowerCase()).length);
    const writes = stack.emulator.stats().writes - writesBefore;
    process.stdout.write(`extend: ARM writes ${writes}, rule changes per NSG ${JSON.stringify(perNsg)}\n`);
    for (const n of perNsg) expect(n).toBeLessThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(ALL_NSGS.length);
    const newer = await stack.getRequest(second);
    expect(newer?.status).toMatchObject({ phase: "Active", renewals: 1 });
    expect(await finalizerSetAtCreate(second)).toBe(true);
    const older = await stack.getRequest(first);
    expect(newer?.status?.chainStartTime).toBe(older?.status?.startTime);
    expect(older?.status).toMatchObject({ reason: "Superseded" });
    const listed = await drawbridge(["list"]);
    expect(listed.stdout).toMatch(new RegExp(`${first}\\s+Superseded`));
    expect(listed.stdout).toMatch(new RegExp(`${second}\\s+Active`));
  }, 120_000);

  it("refuses a second renewal past the policy's maxRenewals, before creating it", async () => {
    const r = await drawbridge(["extend", second, "--for", "10m"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 3 });
    expect(r.stderr).toContain(
      "(RenewalLimitExceeded): this would be renewal 2 of the grant; policy web-admin allows at most 1 (spec.maxRenewals)",
    );
    const p = await drawbridge(["policies"]);
    expect(p.stdout).toContain("1x <=PT2H total");
  });

  it("reports the operator's denial with its reason and exit code 3", async () => {
    // Alice already holds one open request (the renewal); the operator's limit is one.
    const r = await drawbridge([
      "request",
      "web-admin",
      "--port",
      "3389",
      "--source",
      "100.20.30.41",
      "--for",
      "10m",
      "--reason",
      "second",
      "--wait",
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 3 });
    expect(r.stderr).toContain(
      "Denied: RequesterLimitExceeded: requester alice already holds 1 open AccessRequests",
    );
  }, 60_000);

  it("revokes, and the rule goes", async () => {
    const r = await drawbridge(["revoke", second]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    await eventually("request Revoked", async () => (await stack.phaseOf(second)) === "Revoked", 30_000);
    await eventually("allow rules removed", () => allowed().every((a) => !a), 30_000);
    const d = await drawbridge(["describe", second, "-o", "yaml"]);
    expect(d.stdout).toContain("phase: Revoked");
  }, 60_000);

  it("refuses a malformed or private echo answer with exit code 5 and creates nothing", async () => {
    const before = await names();
    for (const [path, text] of [
      ["/malformed", "is not an IP address"],
      ["/private", "is a private address, not a public one"],
    ] as const) {
      const r = await drawbridge([
        "request",
        "web-admin",
        "--port",
        "3389",
        "--my-ip",
        "--ip-echo-url",
        `${echoBase}${path}`,
        "--for",
        "10m",
        "--reason",
        "x",
      ]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 5 });
      expect(r.stderr).toContain(text);
    }
    expect((await names()).filter((n) => !before.includes(n))).toEqual([]);
  });
});
