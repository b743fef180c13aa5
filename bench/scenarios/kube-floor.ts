// The Kubernetes floor of grant latency: what the local API server alone needs to accept N
// AccessRequest creations and the one status write a request needs before it can be Active, with
// no operator involved. A client learns of each creation through a watch (as any controller
// must) and answers it with a single status merge-patch (phase, startTime, expiresAt). The floor
// of a request is "create issued" -> "that status write acknowledged". Grant latency can then be
// read as floor + 2L + overhead, and the overhead is what drawbridge itself adds.
import { ACCESSREQUEST_PLURAL } from "../../src/api/types.ts";
import { requestObject, sourceOf } from "../estate.ts";
import { crPath } from "../kube.ts";
import type { KubeClient } from "../kube.ts";
import { summarize, until } from "../stats.ts";
import type { Percentiles } from "../stats.ts";

export interface FloorRun {
  concurrency: number;
  /** create issued -> create acknowledged */
  create_ms: Percentiles;
  /** create issued -> the single status write acknowledged */
  floor_ms: Percentiles;
  /** Kubernetes writes per request in the floor: the create and one status write */
  writes_per_request: number;
}

/**
 * Measures the floor for `n` concurrent requests in `namespace`, which no operator serves (the
 * benchmark's operators are namespace-scoped).
 */
export async function measureFloor(
  kube: KubeClient,
  namespace: string,
  n: number,
  tag: string,
): Promise<FloorRun> {
  const path = crPath(namespace, ACCESSREQUEST_PLURAL);
  const list = await kube.call("GET", `${path}?limit=1`);
  const issued = new Map<string, number>();
  const created = new Map<string, number>();
  const answered = new Map<string, number>();
  const failures: string[] = [];
  const names = Array.from({ length: n }, (_, k) => `floor-${tag}-${k}`);
  const mine = new Set(names);
  const stop = kube.watch(path, list.metadata.resourceVersion ?? "0", (e) => {
    const name = e.object.metadata.name;
    if (e.type !== "ADDED" || name === undefined || !mine.has(name)) return;
    const now = new Date();
    const status = {
      phase: "Active",
      startTime: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    };
    kube
      .call("PATCH", `${path}/${name}/status`, { status }, "application/merge-patch+json")
      .then(() => answered.set(name, Date.now()))
      .catch((err: unknown) => failures.push(`${name}: ${(err as Error).message}`));
  });
  try {
    await Promise.all(
      names.map(async (name, k) => {
        const body = requestObject({
          namespace,
          name,
          policy: "floor",
          source: sourceOf(k),
          duration: "PT1H",
        });
        issued.set(name, Date.now());
        await kube.call("POST", path, body);
        created.set(name, Date.now());
      }),
    );
    await until(
      `${n} floor status write(s)`,
      () => {
        if (failures.length > 0)
          throw new Error(`floor status writes failed: ${failures.slice(0, 3).join("; ")}`);
        return answered.size === n;
      },
      60_000 + 60 * n,
    );
  } finally {
    stop();
  }
  const since = (m: Map<string, number>): number[] =>
    names.map((x) => (m.get(x) ?? NaN) - (issued.get(x) ?? NaN));
  return {
    concurrency: n,
    create_ms: summarize(since(created)),
    floor_ms: summarize(since(answered)),
    writes_per_request: 2,
  };
}
