// The resilient informer against the real API server: events arrive; a dropped watch, a silent watch and an API-server outage (connections cut and refused, then back) are recovered
// from without losing changes. The shared control plane cannot be restarted from a test (it serves
// the whole run), so the outage is simulated by a TCP proxy in front of it that goes down and up.
import { afterEach, describe, expect, jest, test } from "@jest/globals";
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import { testCluster } from "../support/cluster.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { createInformer } from "../../src/runtime/informer.ts";
import type { Informer, InformerOptions, ListFn } from "../../src/runtime/informer.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { Metrics } from "../../src/runtime/metrics.ts";
import { eventually } from "../support/poll.ts";
import { CuttableProxy, kubeConfigVia, waitFor } from "./runtime-support.ts";

jest.setTimeout(90_000);

const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function configMapLister(kc: KubeConfig, namespace: string): ListFn<V1ConfigMap> {
  const api = kc.makeApiClient(CoreV1Api);
  return async ({ limit, continue: cont }) =>
    await api.listNamespacedConfigMap({
      namespace,
      limit,
      _continue: cont,
    });
}

interface Recorder {
  informer: Informer<V1ConfigMap>;
  events: string[];
  metrics: Metrics;
}

function configMapInformer(
  kc: KubeConfig,
  namespace: string,
  extra: Partial<InformerOptions<V1ConfigMap>> = {},
): Recorder {
  const metrics = new Metrics({ processMetrics: false });
  const informer = createInformer<V1ConfigMap>({
    kubeConfig: kc,
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    listFn: configMapLister(kc, namespace),
    logger: createLogger("silent"),
    clock: systemClock,
    metrics,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    pageSize: 2,
    ...extra,
  });
  const events: string[] = [];
  informer.on("add", (o) => events.push(`add ${o.metadata?.name}=${o.data?.v}`));
  informer.on("update", (o) => events.push(`update ${o.metadata?.name}=${o.data?.v}`));
  informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
  stops.push(() => {
    informer.stop();
  });
  return { informer, events, metrics };
}

async function restarts(m: Metrics, reason: string): Promise<number> {
  const metric = await m.informerRestarts.get();
  return metric.values.filter((v) => v.labels.reason === reason).reduce((a, v) => a + v.value, 0);
}

function cm(name: string, v: string): V1ConfigMap {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- JSON shape
  return { metadata: { name }, data: { v } };
}

describe("createInformer against the API server", () => {
  test("lists in pages, then delivers adds, updates and deletes from the watch", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-informer");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    for (const n of ["a", "b", "c"]) await api.createNamespacedConfigMap({ namespace: ns, body: cm(n, "0") });
    const { informer, events } = configMapInformer(kc, ns);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    // kube-root-ca.crt is created in every namespace by the API server's controller (when it runs).
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(expect.arrayContaining(["a", "b", "c"]));
    expect(informer.get(ns, "b")?.data?.v).toBe("0");

    await api.createNamespacedConfigMap({ namespace: ns, body: cm("d", "1") });
    await api.patchNamespacedConfigMap({
      name: "a",
      namespace: ns,
      body: [{ op: "replace", path: "/data/v", value: "2" }],
    });
    await api.deleteNamespacedConfigMap({ name: "b", namespace: ns });
    await waitFor("watch events", () => events.includes("delete b"));
    expect(events).toEqual(expect.arrayContaining(["add a=0", "add d=1", "update a=2", "delete b"]));
    expect(events.indexOf("add d=1")).toBeLessThan(events.indexOf("update a=2"));
    expect(informer.get(ns, "b")).toBeUndefined();
    expect(informer.get(ns, "a")?.data?.v).toBe("2");
    expect(informer.lastEventAt).toBeInstanceOf(Date);
  });

  test("takes in a write result ahead of its watch event, and the late watch event changes nothing", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-observe");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("w", "0") });
    const { informer, events } = configMapInformer(kc, ns);
    await informer.start();
    expect(informer.get(ns, "w")?.metadata?.managedFields).toBeUndefined();
    // Hold the watch back so the write result is seen first.
    informer.stop();
    const first = await api.patchNamespacedConfigMap({
      name: "w",
      namespace: ns,
      body: [{ op: "replace", path: "/data/v", value: "1" }],
    });
    const second = await api.patchNamespacedConfigMap({
      name: "w",
      namespace: ns,
      body: [{ op: "replace", path: "/data/v", value: "2" }],
    });
    informer.observe(second);
    expect(informer.get(ns, "w")?.data?.v).toBe("2");
    expect(events).toContain("update w=2");
    // An older result (the first patch) does not take the cache back.
    informer.observe(first);
    expect(informer.get(ns, "w")?.data?.v).toBe("2");
    // An object not in the cache is not added by a write result (its deletion may have been seen).
    const ghost = cm("ghost", "9");
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- JSON shape
    ghost.metadata = { name: "ghost", namespace: ns, resourceVersion: "1" };
    informer.observe(ghost);
    expect(informer.get(ns, "ghost")).toBeUndefined();
    expect(events.filter((e) => e.startsWith("update w=")).length).toBe(1);
    // A relist lists the same version: no further event.
    await informer.start();
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("later", "1") });
    await waitFor("the watch after the relist", () => events.includes("add later=1"));
    expect(events.filter((e) => e.startsWith("update w=")).length).toBe(1);
    expect(events).not.toContain("add ghost=9");
  });

  test("slims each list page before reading the next, and a relist keeps the cached copy of an unchanged object", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-pages");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    for (const n of ["a", "b", "c", "d", "e"])
      await api.createNamespacedConfigMap({ namespace: ns, body: cm(n, "0") });
    const inner = configMapLister(kc, ns);
    const earlier: V1ConfigMap[] = [];
    const unslimmedAtNextPage: string[] = [];
    const listFn: ListFn<V1ConfigMap> = async (page) => {
      // slim() works in place: what an earlier page still carries here, the list held whole.
      for (const o of earlier)
        if (o.metadata?.managedFields !== undefined) unslimmedAtNextPage.push(o.metadata.name ?? "");
      const got = await inner(page);
      expect(got.items.some((o) => o.metadata?.managedFields !== undefined)).toBe(true);
      earlier.push(...got.items);
      return got;
    };
    const { informer, events } = configMapInformer(kc, ns, { listFn });
    await informer.start();
    expect(earlier.length).toBeGreaterThanOrEqual(5);
    expect(unslimmedAtNextPage).toEqual([]);
    const a = informer.get(ns, "a");
    const b = informer.get(ns, "b");
    expect(a?.metadata?.managedFields).toBeUndefined();

    informer.stop();
    await api.patchNamespacedConfigMap({
      name: "b",
      namespace: ns,
      body: [{ op: "replace", path: "/data/v", value: "1" }],
    });
    await informer.start();
    // Unchanged: the very object cached before, so a relist allocates nothing for it.
    expect(informer.get(ns, "a")).toBe(a);
    // Changed: a fresh, slimmed copy with its update delivered.
    const b2 = informer.get(ns, "b");
    expect(b2).not.toBe(b);
    expect(b2?.data?.v).toBe("1");
    expect(b2?.metadata?.managedFields).toBeUndefined();
    expect(events).toContain("update b=1");
    expect(events.filter((e) => e.startsWith("update a="))).toEqual([]);
  });

  test("recovers after its watch connection is dropped, without missing changes made meanwhile", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-drop");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    const { informer, events, metrics } = configMapInformer(kc, ns);
    await informer.start();
    await waitFor("the watch to be established", () => informer.watching);
    informer.dropWatch();
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("after-drop", "1") });
    await waitFor("event after the drop", () => events.includes("add after-drop=1"));
    expect(await restarts(metrics, "dropped")).toBeGreaterThanOrEqual(1);
  });

  test("reports a watch broken by a cut connection, and not one it dropped itself", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-broken");
    const admin = cluster.kubeConfig("admin");
    const proxy = new CuttableProxy(new URL(admin.getCurrentCluster()?.server ?? ""));
    await proxy.up();
    stops.push(() => proxy.down());
    let broken = 0;
    const { informer, metrics } = configMapInformer(kubeConfigVia(admin, proxy.url), ns, {
      onBrokenWatch: () => {
        broken += 1;
      },
    });
    await informer.start();
    await waitFor("watching", () => informer.watching);
    informer.dropWatch();
    // The drop is handled (counted, the watch restarting) before the connection is cut.
    await eventually("the drop handled", async () => (await restarts(metrics, "dropped")) >= 1, 15_000, 50);
    await waitFor("watching again after the drop", () => informer.watching);
    expect(broken).toBe(0);
    proxy.cut();
    await waitFor("the broken watch reported", () => broken > 0);
    await waitFor("watching again after the cut", () => informer.watching);
    expect(broken).toBe(1);
  });

  test("the watchdog restarts a watch that stays silent", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-watchdog");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    const { informer, events, metrics } = configMapInformer(kc, ns, { watchdogMs: 1000 });
    await informer.start();
    const before = await restarts(metrics, "watchdog");
    await eventually(
      "a watchdog restart",
      async () => (await restarts(metrics, "watchdog")) - before >= 1,
      15_000,
      50,
    );
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("z", "3") });
    await waitFor("event after watchdog restarts", () => events.includes("add z=3"));
  });

  test("rides out an API-server outage and catches up on changes made during it", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-outage");
    const admin = cluster.kubeConfig("admin");
    const api = admin.makeApiClient(CoreV1Api);
    const proxy = new CuttableProxy(new URL(cluster.server));
    await proxy.up();
    stops.push(() => proxy.down());
    const { informer, events, metrics } = configMapInformer(kubeConfigVia(admin, proxy.url), ns);
    await informer.start();
    await proxy.down();
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("during", "1") });
    await new Promise((r) => setTimeout(r, 1500));
    expect(events).not.toContain("add during=1");
    await proxy.up();
    await waitFor("catch-up after the outage", () => events.includes("add during=1"), 20_000);
    await api.createNamespacedConfigMap({ namespace: ns, body: cm("after", "2") });
    await waitFor("event after the outage", () => events.includes("add after=2"));
    expect(await restarts(metrics, "error")).toBeGreaterThanOrEqual(1);
  });

  test("start() retries the first list until the API server answers; stop() ends the wait", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-late");
    const admin = cluster.kubeConfig("admin");
    const proxy = new CuttableProxy(new URL(cluster.server));
    await proxy.up();
    const url = proxy.url;
    await proxy.down();
    stops.push(() => proxy.down());
    const { informer } = configMapInformer(kubeConfigVia(admin, url), ns);
    let synced = false;
    const starting = informer.start().then(() => (synced = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(synced).toBe(false);
    expect(informer.hasSynced()).toBe(false);
    await proxy.up();
    await starting;
    expect(informer.hasSynced()).toBe(true);

    const never = configMapInformer(kubeConfigVia(admin, "https://127.0.0.1:1"), ns).informer;
    const waiting = never.start();
    await new Promise((r) => setTimeout(r, 300));
    never.stop();
    await waiting;
    expect(never.hasSynced()).toBe(false);
  });

  test("a relist emits synthetic updates and deletes for changes no watch delivered", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-diff");
    const kc = cluster.kubeConfig("admin");
    const api = kc.makeApiClient(CoreV1Api);
    for (const n of ["keep", "gone", "edit"])
      await api.createNamespacedConfigMap({ namespace: ns, body: cm(n, "0") });
    const { informer, events } = configMapInformer(kc, ns);
    await informer.start();
    informer.stop();
    await api.deleteNamespacedConfigMap({ name: "gone", namespace: ns });
    await api.patchNamespacedConfigMap({
      name: "edit",
      namespace: ns,
      body: [{ op: "replace", path: "/data/v", value: "9" }],
    });
    events.length = 0;
    await informer.start();
    expect(events).toEqual(expect.arrayContaining(["delete gone", "update edit=9"]));
    expect(events).not.toContain("update keep=0");
    expect(informer.get(ns, "gone")).toBeUndefined();
  });

  test("relists periodically and start() waits for the first list", async () => {
    const cluster = testCluster();
    const ns = await cluster.createNamespace("rt-relist");
    const kc = cluster.kubeConfig("admin");
    const { informer, metrics } = configMapInformer(kc, ns, { relistIntervalMs: 500 });
    expect(informer.hasSynced()).toBe(false);
    await informer.start();
    await eventually(
      "two periodic relists",
      async () => (await restarts(metrics, "relist")) >= 2,
      15_000,
      50,
    );
    expect(informer.hasSynced()).toBe(true);
  });
});
