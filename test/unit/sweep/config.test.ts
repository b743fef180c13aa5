// `drawbridge sweep` flags: defaults, environment, repeatable lists, and errors naming the flag.
import { describe, expect, it } from "@jest/globals";
import { parseSweepConfig } from "../../../src/sweep/config.ts";

const SUB1 = "00000000-0000-0000-0000-000000000001";
const SUB2 = "00000000-0000-0000-0000-000000000002";
const NSG = `/subscriptions/${SUB1}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n`;

describe("parseSweepConfig", () => {
  it("has safe defaults: default instance, 60 s grace, public Azure, real deletes", () => {
    expect(parseSweepConfig([`--subscription=${SUB1}`], {})).toEqual({
      subscriptions: [SUB1],
      nsgIds: [],
      instanceId: "",
      graceMs: 60_000,
      armEndpoint: undefined,
      armCaFile: undefined,
      armToken: undefined,
      dryRun: false,
      logLevel: "info",
    });
  });

  it("takes repeated flags and comma lists, once each", () => {
    const c = parseSweepConfig(
      [`--subscription=${SUB1},${SUB2}`, "--subscription", SUB1.toUpperCase(), `--nsg=${NSG}`, "--dry-run"],
      {},
    );
    expect(c.subscriptions).toEqual([SUB1.toUpperCase(), SUB2]);
    expect(c.nsgIds).toEqual([NSG]);
    expect(c.dryRun).toBe(true);
  });

  it("reads the environment when a flag is absent, flags first", () => {
    const env = {
      DRAWBRIDGE_SUBSCRIPTION: `${SUB1},${SUB2}`,
      ARM_ENDPOINT: "https://127.0.0.1:8443",
      DRAWBRIDGE_GRACE: "2m",
      DRAWBRIDGE_INSTANCE_ID: "blue",
    };
    expect(parseSweepConfig([], env)).toMatchObject({
      subscriptions: [SUB1, SUB2],
      armEndpoint: "https://127.0.0.1:8443",
      armToken: "emulator-token",
      graceMs: 120_000,
      instanceId: "blue",
    });
    expect(parseSweepConfig([`--subscription=${SUB2}`, "--grace=0s"], env)).toMatchObject({
      subscriptions: [SUB2],
      graceMs: 0,
    });
  });

  it.each([
    [[], /--subscription: give at least one --subscription or --nsg/],
    [["--subscription=sub-1"], /--subscription: "sub-1" is not a subscription id/],
    [
      ["--nsg=/subscriptions/x/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"],
      /--nsg: .*expected Microsoft.Network\/networkSecurityGroups/,
    ],
    [[`--subscription=${SUB1}`, "--instance-id=a-b"], /--instance-id: "a-b" must be 1..12/],
    [[`--subscription=${SUB1}`, "--grace=25h"], /--grace: "25h" must be a duration .* at most 24h/],
    [[`--subscription=${SUB1}`, "--grace=soon"], /--grace/],
    [
      [`--subscription=${SUB1}`, "--arm-token=t"],
      /--arm-token: is only allowed together with --arm-endpoint/,
    ],
    [[`--subscription=${SUB1}`, "--arm-endpoint=http://x"], /--arm-endpoint: "http:\/\/x" must be an https/],
    [[`--subscription=${SUB1}`, "--log-level=loud"], /--log-level: "loud" is not one of/],
    [[`--subscription=${SUB1}`, "--dry-run=maybe"], /--dry-run: "maybe" must be true or false/],
    [[`--subscription=${SUB1}`, "--grace=1s", "--grace=2s"], /--grace: given more than once/],
    [[`--subscription=${SUB1}`, "--namespace=x"], /--namespace: unknown flag/],
    [[SUB1], /unexpected argument/],
  ])("refuses %j naming the flag", (argv, message) => {
    expect(() => parseSweepConfig(argv, {})).toThrow(message);
  });
});
