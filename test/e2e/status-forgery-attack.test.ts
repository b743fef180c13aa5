// The "status is authority" attack, end to end: someone allowed to write the status subresource
// (`*/status`, common in broad tenant roles) but not to approve anything forges what the operator
// would have written. (1) A Denied request forged into an approval (Pending, startTime, expiresAt,
// even with a signature copied from a genuine approval) must open nothing and end Denied. (2) An
// Active request's startTime and expiresAt forged an hour later must not stretch it: its rule is
// gone no later than the original expiry. (3) A policy's status.targets forged to aim the VM at
// jump-nsg must bring no VM rule and no write to jump-nsg, and the operator restores the
// resolution from ARM. Status is a cache the operator signs (ADR 0012).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import {
  ALL_NSGS,
  JUMP_NSG,
  NIC_NSG,
  SUBNET_NSG,
  Stack,
  VM_ID,
  destinationsOf,
  eventually,
} from "./harness.ts";

jest.setTimeout(120_000);

let stack: Stack;

const ALICE = "203.0.113.7/32";
const FORGED = "203.0.113.9/32";
const SHORT = "203.0.113.20/32";

interface RequestStatus {
  phase?: string;
  reason?: string;
  startTime?: string;
  expiresAt?: string;
  approvalSignature?: string;
}

async function statusOf(name: string): Promise<RequestStatus> {
  return (await stack.getRequest(name))?.status ?? {};
}

async function phaseIn(name: string, phases: string[]): Promise<string> {
  return eventually(`${name} to reach ${phases.join(" or ")}`, async () => {
    const phase = await stack.phaseOf(name);
    return phase !== undefined && phases.includes(phase) ? phase : undefined;
  });
}

/** Managed allow rules of any NSG that carry `source` on port 22. */
function allowsOf(source: string): string[] {
  return ALL_NSGS.flatMap((nsg) => stack.allowsFor(nsg, 22, source).map((r) => `${nsg} ${r.name}`));
}

async function forgeStatus(kind: "accessrequest" | "jitpolicy", name: string, status: object): Promise<void> {
  await stack.kubectlOk([
    "patch",
    kind,
    name,
    "-n",
    stack.ns,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ]);
}

/** Poll for `ms`: `check` must hold at every look (the forged state is watched, not sampled once). */
async function holdsFor(ms: number, check: () => void | Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await check();
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  stack = await Stack.start("forge");
  // One open request per requester: a second one of alice's is Denied with a valid source.
  stack.startOperator({ extraArgs: ["--max-open-requests-per-requester=1"] });
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

describe("forged status", () => {
  let alice = "";

  it("a Denied request forged into an approval opens nothing and stays Denied", async () => {
    alice = await stack.createRequest({ sourceAddressPrefix: ALICE });
    expect(await phaseIn(alice, ["Active", "Denied"])).toBe("Active");
    await eventually("alice's rules", () => allowsOf(ALICE).length === 3);
    const genuine = await statusOf(alice);
    expect(genuine.approvalSignature).toMatch(/^v1\.[0-9a-f]{64}$/);

    const denied = await stack.createRequest({ sourceAddressPrefix: FORGED });
    expect(await phaseIn(denied, ["Active", "Denied"])).toBe("Denied");
    expect((await statusOf(denied)).reason).toBe("RequesterLimitExceeded");

    // The forgery: an approval as the operator writes one, with alice's genuine signature copied in.
    const now = Date.now();
    await forgeStatus("accessrequest", denied, {
      phase: "Pending",
      reason: "Approved",
      startTime: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      approvalSignature: genuine.approvalSignature,
    });
    expect((await statusOf(denied)).startTime).toBeDefined();

    await holdsFor(8_000, () => {
      expect(allowsOf(FORGED)).toEqual([]);
    });
    await eventually("the forged approval to be refused", async () => {
      const s = await statusOf(denied);
      return s.phase === "Denied" && s.reason === "ApprovalNotAuthentic" ? true : undefined;
    });
    expect(allowsOf(FORGED)).toEqual([]);
    // The genuine grant is untouched.
    expect(allowsOf(ALICE)).toHaveLength(3);
    expect(await stack.phaseOf(alice)).toBe("Active");
  });

  it("an Active request's window moved an hour later closes no later than it was approved to", async () => {
    // Another requester (alice holds her one open request); 20 seconds are approved.
    const short = await stack.createRequest({
      sourceAddressPrefix: SHORT,
      duration: "PT20S",
      requester: "carol",
    });
    expect(await phaseIn(short, ["Active", "Denied"])).toBe("Active");
    await eventually("the short request's rules", () => allowsOf(SHORT).length === 3);
    const genuine = await statusOf(short);
    const start = Date.parse(genuine.startTime ?? "");
    const end = Date.parse(genuine.expiresAt ?? "");
    expect(end - start).toBe(20_000);

    await forgeStatus("accessrequest", short, {
      startTime: new Date(start + 3_600_000).toISOString(),
      expiresAt: new Date(end + 3_600_000).toISOString(),
    });
    expect((await statusOf(short)).expiresAt).toBe(new Date(end + 3_600_000).toISOString());

    await eventually("the short request's rules to go", () => allowsOf(SHORT).length === 0, 90_000);
    // Gone by the original expiry (plus the time NSG writes take on a loaded machine), never an hour
    // later.
    expect(Date.now()).toBeLessThan(end + 60_000);
    await holdsFor(3_000, () => {
      expect(allowsOf(SHORT)).toEqual([]);
    });
    expect(["Denied", "Expired"]).toContain(await stack.phaseOf(short));
  });

  it("a policy's resolved targets aimed at jump-nsg bring no VM rule there and no write to it", async () => {
    const read = async (): Promise<{
      targets?: { id: string; privateIpAddresses?: string[]; networkSecurityGroupIds?: string[] }[];
      targetsSignature?: string;
    }> => {
      const out = await stack.kubectlOk(["get", "jitpolicy", "web-admin", "-n", stack.ns, "-o", "json"]);
      return (JSON.parse(out) as { status?: object }).status ?? {};
    };
    const genuine = await read();
    expect(genuine.targetsSignature).toMatch(/^v1\.[0-9a-f]{64}$/);
    const vm = genuine.targets?.find((t) => t.id.toLowerCase() === VM_ID.toLowerCase());
    const ips = vm?.privateIpAddresses ?? [];
    expect(ips.length).toBeGreaterThan(0);
    expect((vm?.networkSecurityGroupIds ?? []).map((id) => id.toLowerCase()).sort()).toEqual(
      [NIC_NSG, SUBNET_NSG].map((id) => id.toLowerCase()).sort(),
    );
    const vmRulesInJump = (): string[] =>
      stack
        .managed(JUMP_NSG)
        .filter((r) => destinationsOf(r).some((d) => ips.some((ip) => d === ip || d === `${ip}/32`)))
        .map((r) => r.name);
    expect(vmRulesInJump()).toEqual([]);
    const writes = stack.emulator.writeLog().length;

    // The forgery: the VM resolved into jump-nsg, the genuine signature kept.
    const aimed = (genuine.targets ?? []).map((t) =>
      t === vm ? { ...t, networkSecurityGroupIds: [JUMP_NSG] } : t,
    );
    await forgeStatus("jitpolicy", "web-admin", { targets: aimed });

    await holdsFor(6_000, () => {
      expect(vmRulesInJump()).toEqual([]);
    });
    const jumpWrites = stack.emulator
      .writeLog()
      .slice(writes)
      .filter((w) => w.nsgId.toLowerCase() === JUMP_NSG.toLowerCase());
    expect(jumpWrites).toEqual([]);
    // The operator re-derives the resolution from ARM and signs it again.
    await eventually("the resolution restored from ARM", async () => {
      const s = await read();
      const t = s.targets?.find((x) => x.id.toLowerCase() === VM_ID.toLowerCase());
      const nsgs = (t?.networkSecurityGroupIds ?? []).map((id) => id.toLowerCase()).sort();
      return JSON.stringify(nsgs) ===
        JSON.stringify([NIC_NSG, SUBNET_NSG].map((id) => id.toLowerCase()).sort())
        ? true
        : undefined;
    });
    // alice's grant was never disturbed.
    expect(allowsOf(ALICE)).toHaveLength(3);
    expect(await stack.phaseOf(alice)).toBe("Active");
  });
});
