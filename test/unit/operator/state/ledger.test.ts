// The NSG ledger's records (src/operator/state/ledger.ts): what a record answers, and the parts
// records share instead of holding a copy each.
import { describe, expect, it } from "@jest/globals";
import type { NsgRecord } from "../../../../src/operator/state/ledger.ts";
import { Ledger } from "../../../../src/operator/state/ledger.ts";
import { nsgRecord } from "../fixtures.ts";

function rec(seq: number, policies: string[]): NsgRecord {
  return nsgRecord({ seq, policiesWithRules: new Set(policies) });
}

describe("Ledger", () => {
  it("shares one set of policies between the records that name the same policies", () => {
    const ledger = new Ledger();
    ledger.record("nsg-a", rec(ledger.nextSeq(), ["team-a/p"]));
    ledger.record("nsg-b", rec(ledger.nextSeq(), ["team-a/p"]));
    ledger.record("nsg-c", rec(ledger.nextSeq(), ["team-a/q"]));
    ledger.record("nsg-d", rec(ledger.nextSeq(), ["team-a/p", "team-a/q"]));
    ledger.record("nsg-e", rec(ledger.nextSeq(), ["team-a/p", "team-a/q"]));
    ledger.record("nsg-f", rec(ledger.nextSeq(), []));
    ledger.record("nsg-g", rec(ledger.nextSeq(), []));
    const set = (k: string): ReadonlySet<string> | undefined => ledger.get(k)?.policiesWithRules;
    expect(set("nsg-a")).toBe(set("nsg-b"));
    expect(set("nsg-d")).toBe(set("nsg-e"));
    expect(set("nsg-f")).toBe(set("nsg-g"));
    expect(set("nsg-a")).not.toBe(set("nsg-c"));
    expect(set("nsg-a")).not.toBe(set("nsg-d"));
    // Every record still answers for its own policies only.
    expect([...(set("nsg-a") ?? [])]).toEqual(["team-a/p"]);
    expect([...(set("nsg-c") ?? [])]).toEqual(["team-a/q"]);
    expect([...(set("nsg-d") ?? [])]).toEqual(["team-a/p", "team-a/q"]);
    expect(set("nsg-f")?.size).toBe(0);
    expect(set("nsg-c")?.has("team-a/p")).toBe(false);
    expect(set("nsg-d")?.has("team-a/q")).toBe(true);
  });

  it("keeps the newer record and hands back the previous one", () => {
    const ledger = new Ledger();
    const first = ledger.nextSeq();
    const second = ledger.nextSeq();
    expect(ledger.record("nsg-a", rec(second, ["team-a/p"]))).toBeUndefined();
    expect(ledger.record("nsg-a", rec(first, ["team-a/q"]))?.seq).toBe(second);
    expect([...(ledger.get("nsg-a")?.policiesWithRules ?? [])]).toEqual(["team-a/p"]);
  });
});
