// Denial of service by volume, attacked end to end: one requester (then one namespace) fires more
// requests than its limit at once. The operator approves exactly as many as the limit (the oldest
// among those it sees undecided together), denies the rest with a named reason for good, opens NSG rules for the winners only, drops the Denied
// objects after --denied-retention, and leaves one audit line per decision and per open/close.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { parse, stringify } from "yaml";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NIC_NSG, ROOT, Stack, eventually, portsOf, sourcesOf } from "./harness.ts";

let stack: Stack;

const REQUESTER_LIMIT = 3;
const NAMESPACE_LIMIT = 5;

beforeAll(async () => {
  stack = await Stack.start("volume");
  stack.startOperator({
    extraArgs: [
      `--max-open-requests-per-requester=${REQUESTER_LIMIT}`,
      `--max-open-requests-per-namespace=${NAMESPACE_LIMIT}`,
      "--denied-retention=20s",
    ],
  });
  await stack.applyPolicy();
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

interface Made {
  name: string;
  created: string;
  source: string;
}

/** Create the example request for `source` as admin on behalf of `requester` (the namespace is unguarded). */
async function create(requester: string, source: string): Promise<Made> {
  const doc = parse(readFileSync(join(ROOT, "examples", "request.yaml"), "utf8")) as {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown>;
  };
  doc.metadata.namespace = stack.ns;
  doc.metadata.generateName = `${requester}-`;
  doc.spec = { ...doc.spec, requester, sourceAddressPrefix: source, justification: `flood ${source}` };
  const as = requester === "alice" ? { as: "alice" } : {};
  const out = await stack.kubectlOk(["create", "-f", "-", "-o", "json"], { ...as, input: stringify(doc) });
  const obj = JSON.parse(out) as { metadata: { name: string; creationTimestamp: string } };
  return { name: obj.metadata.name, created: obj.metadata.creationTimestamp, source };
}

/** The requests in `phase`, by name. */
function inPhase(made: Made[], phases: Map<string, { phase: string }>, phase: string): Made[] {
  return made.filter((m) => phases.get(m.name)?.phase === phase);
}

async function settled(
  names: string[],
): Promise<Map<string, { phase: string; reason: string; message: string }>> {
  return eventually(
    "every request decided and settled",
    async () => {
      const out = new Map<string, { phase: string; reason: string; message: string }>();
      for (const n of names) {
        const s = (await stack.getRequest(n))?.status as Record<string, string> | undefined;
        if (s?.phase !== "Active" && s?.phase !== "Denied") return undefined;
        out.set(n, { phase: s.phase, reason: s.reason ?? "", message: s.message ?? "" });
      }
      return out;
    },
    90_000,
  );
}

interface AuditLine {
  audit?: boolean;
  event: string;
  request: string;
  requester: string;
  justification: string;
  source: string;
  targets: unknown;
  ports: number[];
  rules: { nsg: string; rule: string; port: number }[];
  rulesTotal: number;
  startTime?: string;
  expiresAt?: string;
  reason?: string;
  approver: string | null;
}

function auditLines(): AuditLine[] {
  const out: AuditLine[] = [];
  for (const line of stack.logs.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const o = JSON.parse(line) as AuditLine;
      if (o.audit === true) out.push(o);
    } catch {
      // not a log line
    }
  }
  return out;
}

function auditOf(name: string, event: string): AuditLine[] {
  return auditLines().filter((l) => l.request === `${stack.ns}/${name}` && l.event === event);
}

let alice: Made[] = [];
let aliceWinners: Made[] = [];
let aliceLosers: Made[] = [];

describe("volume attack: limits per requester and per namespace", () => {
  it("alice fires 5 requests at once: 3 open, the other 2 are Denied by name for good, only 3 sources reach the NSG", async () => {
    alice = await Promise.all([1, 2, 3, 4, 5].map((i) => create("alice", `203.0.113.${i}/32`)));
    const phases = await settled(alice.map((m) => m.name));
    const winners = inPhase(alice, phases, "Active");
    const losers = inPhase(alice, phases, "Denied");
    expect([winners.length, losers.length]).toEqual([REQUESTER_LIMIT, 5 - REQUESTER_LIMIT]);
    for (const l of losers) {
      const p = phases.get(l.name);
      expect([l.name, p?.phase, p?.reason]).toEqual([l.name, "Denied", "RequesterLimitExceeded"]);
      expect(p?.message).toContain(`the limit is ${REQUESTER_LIMIT} (--max-open-requests-per-requester)`);
    }
    const allowed = stack
      .managed(NIC_NSG)
      .filter((r) => r.properties.access === "Allow" && portsOf(r).includes("22"))
      .flatMap(sourcesOf);
    expect(new Set(allowed)).toEqual(new Set(winners.map((w) => w.source)));
    aliceWinners = winners;
    aliceLosers = losers;
    // The decision holds: a while later nothing flapped.
    await new Promise((r) => setTimeout(r, 2000));
    const again = await settled(alice.map((m) => m.name));
    expect(again).toEqual(phases);
  }, 150_000);

  it("another requester of the same namespace is capped by the namespace limit", async () => {
    const bob = await Promise.all([11, 12, 13].map((i) => create("bob", `203.0.113.${i}/32`)));
    const phases = await settled(bob.map((m) => m.name));
    // alice holds 3 open; the namespace allows 5: two of bob's open, the third is Denied.
    const opened = inPhase(bob, phases, "Active");
    const refused = inPhase(bob, phases, "Denied");
    expect([opened.length, refused.length]).toEqual([2, 1]);
    const denied = phases.get(refused[0]!.name);
    expect(denied?.reason).toBe("NamespaceLimitExceeded");
    expect(denied?.message).toContain(`the limit is ${NAMESPACE_LIMIT} (--max-open-requests-per-namespace)`);
    expect(stack.allowsFor(NIC_NSG, 22, refused[0]!.source)).toHaveLength(0);
    for (const o of opened) expect(stack.allowsFor(NIC_NSG, 22, o.source)).toHaveLength(1);
  }, 150_000);

  it("revoking one frees a place: the next request of alice opens", async () => {
    const first = aliceWinners[0]!;
    await stack.kubectlOk(
      [
        "patch",
        "accessrequest",
        first.name,
        "-n",
        stack.ns,
        "--type=merge",
        "-p",
        '{"spec":{"revoked":true}}',
      ],
      { as: "alice" },
    );
    await eventually("revoked", async () => (await stack.phaseOf(first.name)) === "Revoked", 30_000);
    const next = await create("alice", "203.0.113.21/32");
    const phases = await settled([next.name]);
    expect(phases.get(next.name)?.phase).toBe("Active");
    alice.push(next);
  }, 90_000);

  it("writes one audit line per decision and per open/close, with who, why, what, where and when", async () => {
    const first = aliceWinners[0]!;
    const revoked = await eventually(
      "audit line of the revoke",
      () => auditOf(first.name, "Revoked")[0],
      30_000,
    );
    expect(revoked).toMatchObject({
      requester: "alice",
      source: first.source,
      reason: "RevokedByUser",
      approver: "policy",
    });
    expect(revoked.rules.length).toBeGreaterThan(0);
    for (const w of aliceWinners) {
      const approved = auditOf(w.name, "Approved");
      const active = auditOf(w.name, "Active");
      // Exactly once each, however often the request was reconciled.
      expect([w.name, approved.length, active.length]).toEqual([w.name, 1, 1]);
      expect(approved[0]).toMatchObject({
        requester: "alice",
        justification: `flood ${w.source}`,
        source: w.source,
        targets: "all",
        ports: [22],
        approver: "policy",
      });
      expect(Date.parse(approved[0]!.expiresAt ?? "") - Date.parse(approved[0]!.startTime ?? "")).toBe(
        3_600_000,
      );
      expect(
        active[0]!.rules.some((r) => r.nsg === NIC_NSG && r.rule.startsWith("drawbridge-") && r.port === 22),
      ).toBe(true);
      expect(active[0]!.rulesTotal).toBe(active[0]!.rules.length);
    }
    for (const l of aliceLosers) {
      const denied = auditOf(l.name, "Denied");
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        requester: "alice",
        source: l.source,
        reason: "RequesterLimitExceeded",
        approver: null,
      });
      expect(auditOf(l.name, "Approved")).toHaveLength(0);
    }
  }, 60_000);

  it("drops Denied requests after --denied-retention while closed grants stay for --request-retention", async () => {
    for (const l of aliceLosers) {
      await eventually(
        `${l.name} deleted`,
        async () => (await stack.getRequest(l.name)) === undefined,
        60_000,
      );
    }
    expect(await stack.phaseOf(aliceWinners[0]!.name)).toBe("Revoked");
  }, 90_000);
});
