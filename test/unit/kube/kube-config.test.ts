import { describe, expect, it } from "@jest/globals";
import { HttpMethod, KubeConfig, RequestContext } from "@kubernetes/client-node";
import { PooledWriteKubeConfig } from "../../../src/kube/kube-config.ts";

// Any PEM-looking data: the dispatcher only stores the TLS options until it connects.
const PEM = Buffer.from("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n").toString("base64");

function load(kc: KubeConfig, user = "u"): KubeConfig {
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:6443", caData: PEM }],
    users: [{ name: "u" }, { name: "v" }],
    contexts: [{ name: "x", cluster: "c", user }],
    currentContext: "x",
  });
  return kc;
}

async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext("https://127.0.0.1:6443/api", HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe("PooledWriteKubeConfig", () => {
  it("hands every request of one cluster/user the same dispatcher", async () => {
    const kc = load(new PooledWriteKubeConfig());
    const first = await dispatcherOf(kc);
    expect(first).toBeDefined();
    expect(await dispatcherOf(kc)).toBe(first);
    expect(await dispatcherOf(kc)).toBe(first);
  });

  it("keeps separate dispatchers for separate users", async () => {
    const kc = load(new PooledWriteKubeConfig());
    const asU = await dispatcherOf(kc);
    kc.addContext({ name: "y", cluster: "c", user: "v" });
    kc.setCurrentContext("y");
    const asV = await dispatcherOf(kc);
    expect(asV).toBeDefined();
    expect(asV).not.toBe(asU);
    expect(await dispatcherOf(kc)).toBe(asV);
  });

  it("differs from the library default, which builds a dispatcher per request", async () => {
    const kc = load(new KubeConfig());
    expect(await dispatcherOf(kc)).not.toBe(await dispatcherOf(kc));
  });
});
