import { describe, expect, it } from "@jest/globals";
import { UsageError, parse, parsePorts } from "../../../src/cli/access/args.ts";
import { candidates } from "../../../src/cli/access/completion.ts";
import { parseHumanDuration } from "../../../src/cli/access/duration.ts";
import { nameStem } from "../../../src/cli/access/commands/request.ts";
import { connectCommand } from "../../../src/cli/access/render.ts";

describe("parseHumanDuration", () => {
  it.each([
    ["90m", "PT1H30M", 5_400_000],
    ["1h", "PT1H", 3_600_000],
    ["1h30m", "PT1H30M", 5_400_000],
    ["2d", "P2D", 172_800_000],
    ["45s", "PT45S", 45_000],
    ["PT1H", "PT1H", 3_600_000],
    ["pt90m", "PT1H30M", 5_400_000],
  ])("%s is %s", (text, iso, ms) => {
    expect(parseHumanDuration(text)).toEqual({ ok: true, iso, ms });
  });

  it.each(["", "1 hour", "1.5h", "h", "0m", "P1W", "-5m", "1m1h"])("refuses %j", (text) => {
    expect(parseHumanDuration(text).ok).toBe(false);
  });
});

describe("parse", () => {
  const flags = { port: { type: "string" as const, multiple: true }, wait: { type: "boolean" as const } };

  it("reads the kubectl flags, repeatable flags and -o", () => {
    const p = parse(
      ["web", "-n", "team-a", "--port", "22", "--port=3389", "--wait", "-o", "json", "--context", "c"],
      flags,
    );
    expect(p.positionals).toEqual(["web"]);
    expect(p.strings).toMatchObject({ namespace: "team-a", context: "c" });
    expect(p.lists["port"]).toEqual(["22", "3389"]);
    expect(p.booleans["wait"]).toBe(true);
    expect(p.output).toBe("json");
  });

  it("refuses unknown flags and formats", () => {
    expect(() => parse(["--nope"], flags)).toThrow(UsageError);
    expect(() => parse(["-o", "wide"], flags)).toThrow("-o/--output must be table, json or yaml");
  });

  it("reads ports, also comma-separated, and refuses bad ones", () => {
    expect(parsePorts(["22", "3389,22"])).toEqual([22, 3389]);
    expect(() => parsePorts(["0"])).toThrow("--port must be a port number from 1 to 65535");
    expect(() => parsePorts(["ssh"])).toThrow(UsageError);
  });
});

describe("helpers", () => {
  it("derives a generateName stem from the user name", () => {
    expect(nameStem("alice")).toBe("alice");
    expect(nameStem("Alice@Example.com")).toBe("alice-example-com");
    expect(nameStem("system:serviceaccount:x:y")).toBe("system-serviceaccount-x-y");
    expect(nameStem("@@")).toBe("request");
  });

  it("says how to connect", () => {
    expect(connectCommand("10.0.1.4", 22)).toBe("ssh 10.0.1.4");
    expect(connectCommand("10.0.1.4", 3389)).toBe("mstsc /v:10.0.1.4");
    expect(connectCommand("fd00::4", 5986)).toBe("[fd00::4]:5986");
  });
});

describe("completion", () => {
  const src = {
    commands: { request: { flags: { port: { type: "string" as const } } }, revoke: { flags: {} } },
    names: (kind: string): Promise<string[]> =>
      Promise.resolve(kind === "policies" ? ["web-admin", "db"] : ["alice-x"]),
  };

  it("completes commands, flags, formats and names", async () => {
    expect(await candidates(["re"], src)).toEqual(["request", "revoke"]);
    expect(await candidates(["request", "--po"], src)).toEqual(["--port"]);
    expect(await candidates(["request", "-o", "j"], src)).toEqual(["json"]);
    expect(await candidates(["request", "w"], src)).toEqual(["web-admin"]);
    expect(await candidates(["revoke", ""], src)).toEqual(["alice-x"]);
    expect(await candidates(["request", "--port", ""], src)).toEqual([]);
    expect(await candidates(["request", "web-admin", ""], src)).toEqual([]);
  });
});
