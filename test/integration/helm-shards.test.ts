// The chart's sharding value (ADR 0018): operator.shards becomes --shards, the Lease RBAC names the
// shard and member Leases (get/update by name only), and shards without leader election is refused.
import { beforeAll, describe, expect, test } from "@jest/globals";
import { ensureHelm } from "../../src/helm/build.ts";
import { helmTemplate, renderChart, type Manifest } from "../../src/helm/template.ts";
import { containerOf, only } from "./helm-support.ts";
import { memberSlots } from "../../src/runtime/shard-hash.ts";

let helm: string;
let sharded: Manifest[] = [];
let defaults: Manifest[] = [];

beforeAll(async () => {
  helm = await ensureHelm({ env: process.env });
  defaults = await renderChart(helm);
  sharded = await renderChart(helm, { values: { operator: { shards: 4 } } });
}, 1_800_000);

function leaseNames(manifests: Manifest[]): string[] {
  const role = manifests.find((m) => m.kind === "Role" && m.metadata.name.endsWith("-leader-election")) as
    (Manifest & { rules: { resourceNames?: string[]; verbs: string[] }[] }) | undefined;
  return role?.rules.find((r) => r.verbs.includes("update"))?.resourceNames ?? [];
}

describe("operator.shards", () => {
  test("defaults to 1: --shards=1 and only the leader Lease by name", () => {
    expect(containerOf(only(defaults, "Deployment")).args).toContain("--shards=1");
    expect(leaseNames(defaults)).toEqual(["drawbridge-leader"]);
  });

  test("4 shards: --shards=4 and get/update on each shard and member Lease by name", () => {
    expect(memberSlots(4)).toBe(5);
    expect(containerOf(only(sharded, "Deployment")).args).toContain("--shards=4");
    expect(leaseNames(sharded)).toEqual([
      "drawbridge-leader",
      ...[0, 1, 2, 3].map((i) => `drawbridge-leader-shard-${String(i)}`),
      // One member slot per shard plus a rolling update's surge (memberSlots(4) = 5).
      ...[0, 1, 2, 3, 4].map((i) => `drawbridge-leader-member-${String(i)}`),
    ]);
  });

  test("refuses shards without leader election, and shards outside 1..64", async () => {
    const off = await helmTemplate(helm, {
      extraArgs: [
        "--set",
        "operator.shards=2",
        "--set",
        "operator.leaderElection.enabled=false",
        "--set",
        "replicaCount=1",
      ],
    });
    expect(off.code).not.toBe(0);
    expect(off.stderr).toContain("operator.shards > 1 needs operator.leaderElection.enabled");
    const big = await helmTemplate(helm, { extraArgs: ["--set", "operator.shards=65"] });
    expect(big.code).not.toBe(0);
    expect(big.stderr).toContain("shards");
  });
});
