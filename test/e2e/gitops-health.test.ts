// Health as GitOps tools compute it, on objects the real operator wrote: the kstatus library
// (tools/kstatus, what Flux uses) and the Argo CD health checks in docs/argocd run by gopher-lua
// (tools/lua, Argo CD's Lua engine). A reconciled policy is Current/Healthy; one whose new
// generation is not yet observed InProgress/Progressing; PriorityConflict or an unresolvable target
// Failed/Degraded; an Active request Current/Healthy, a Denied one Failed/Degraded.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { JUMP_NSG, ROOT, Stack, VM_ID, eventually } from "./harness.ts";

let stack: Stack;
let kstatus: string;
let lua: string;

interface Health {
  status: string;
  message: string;
}

function helper(name: string): string {
  const out = execFileSync("bash", [join(ROOT, "tools", name, "build.sh")], { encoding: "utf8" });
  return out.trim().split("\n").pop() ?? "";
}

function kstatusOf(obj: unknown): Health {
  return (
    JSON.parse(execFileSync(kstatus, [], { input: JSON.stringify(obj), encoding: "utf8" })) as Health[]
  )[0]!;
}

function argoOf(kind: "jitpolicy" | "accessrequest", obj: unknown): Health {
  const script = join(ROOT, "docs", "argocd", `health-${kind}.lua`);
  return (
    JSON.parse(execFileSync(lua, [script], { input: JSON.stringify(obj), encoding: "utf8" })) as Health[]
  )[0]!;
}

async function get(kind: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await stack.kubectlOk(["get", kind, name, "-n", stack.ns, "-o", "json"])) as Record<
    string,
    unknown
  >;
}

/** The policy once the operator has written a status for its current generation with `type`=True. */
async function policyWith(name: string, type: string): Promise<Record<string, unknown>> {
  return eventually(
    `${name} ${type}=True`,
    async () => {
      const p = await get("jitpolicy", name);
      const status = p["status"] as
        { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
      const gen = (p["metadata"] as { generation: number }).generation;
      if (status?.observedGeneration !== gen) return undefined;
      return status.conditions?.some((c) => c.type === type && c.status === "True") === true ? p : undefined;
    },
    60_000,
  );
}

async function requestIn(name: string, phase: string): Promise<Record<string, unknown>> {
  return eventually(
    `${name} ${phase}`,
    async () => {
      const r = await get("accessrequest", name);
      return (r["status"] as { phase?: string } | undefined)?.phase === phase ? r : undefined;
    },
    60_000,
  );
}

beforeAll(async () => {
  kstatus = helper("kstatus");
  lua = helper("lua");
  stack = await Stack.start("gitops-health");
  // A foreign rule inside the band of the "conflict" policy.
  await stack.armPut(JUMP_NSG, "team-b-in-band", {
    direction: "Inbound",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    priority: 450,
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "10.9.0.0/16",
    destinationPortRange: "8080",
  });
  stack.startOperator();
  await stack.applyPolicy();
  await stack.applyPolicy((doc) => {
    (doc.metadata as Record<string, unknown>).name = "conflict";
    const spec = doc.spec as Record<string, unknown>;
    spec.targets = [{ networkSecurityGroupId: JUMP_NSG, destinationAddressPrefixes: ["10.0.2.5/32"] }];
    spec.priorityRange = { from: 400, to: 499 };
  });
  await stack.applyPolicy((doc) => {
    (doc.metadata as Record<string, unknown>).name = "unresolvable";
    const spec = doc.spec as Record<string, unknown>;
    spec.targets = [{ virtualMachineId: VM_ID.replace(/web-1$/, "no-such-vm") }];
    spec.priorityRange = { from: 600, to: 699 };
  });
}, 900_000);

afterAll(async () => {
  await stack.stop();
});

describe("GitOps health of operator-written objects", () => {
  it("a reconciled policy is Current and Healthy", async () => {
    const p = await policyWith("web-admin", "Ready");
    expect(kstatusOf(p).status).toBe("Current");
    expect(argoOf("jitpolicy", p).status).toBe("Healthy");
  }, 90_000);

  it("a policy with a PriorityConflict is Failed and Degraded", async () => {
    const p = await policyWith("conflict", "Stalled");
    expect(kstatusOf(p)).toEqual({ status: "Failed", message: expect.stringContaining("team-b-in-band") });
    expect(argoOf("jitpolicy", p)).toEqual({
      status: "Degraded",
      message: expect.stringMatching(/^PriorityConflict: /),
    });
  }, 90_000);

  it("a policy with an unresolvable target is Failed and Degraded", async () => {
    const p = await policyWith("unresolvable", "Stalled");
    expect(kstatusOf(p).status).toBe("Failed");
    expect(argoOf("jitpolicy", p)).toEqual({
      status: "Degraded",
      message: expect.stringMatching(/^TargetsUnresolved: /),
    });
  }, 90_000);

  it("an Active request is Current and Healthy, a Denied one Failed and Degraded", async () => {
    const active = await requestIn(await stack.createRequest(), "Active");
    const denied = await requestIn(await stack.createRequest({ ports: [23] }), "Denied");
    expect(kstatusOf(active).status).toBe("Current");
    expect(argoOf("accessrequest", active).status).toBe("Healthy");
    expect(kstatusOf(denied).status).toBe("Failed");
    expect(argoOf("accessrequest", denied)).toEqual({
      status: "Degraded",
      message: expect.stringMatching(/^Denied \(/),
    });
  }, 120_000);

  it("a policy whose new generation the operator has not yet observed is InProgress and Progressing", async () => {
    await stack.operator?.stop();
    await stack.kubectlOk([
      "patch",
      "jitpolicy",
      "web-admin",
      "-n",
      stack.ns,
      "--type=json",
      "-p",
      '[{"op":"replace","path":"/spec/ports/1/maxDuration","value":"PT2H"}]',
    ]);
    const p = await get("jitpolicy", "web-admin");
    expect((p["status"] as { observedGeneration: number }).observedGeneration).toBeLessThan(
      (p["metadata"] as { generation: number }).generation,
    );
    expect(kstatusOf(p).status).toBe("InProgress");
    expect(argoOf("jitpolicy", p).status).toBe("Progressing");
  }, 60_000);
});
