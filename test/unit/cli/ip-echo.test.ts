import { describe, expect, it } from "@jest/globals";
import { echoUrlsFromEnv, findMyIp, parseEchoAnswer } from "../../../src/cli/access/ip-echo.ts";
import type { Fetcher } from "../../../src/cli/access/ip-echo.ts";

describe("parseEchoAnswer", () => {
  it.each([
    ["203.0.114.7\n", "203.0.114.7/32"],
    ["  8.8.8.8  ", "8.8.8.8/32"],
    ["2606:4700:4700::1111\n", "2606:4700:4700::1111/128"],
    ["::ffff:8.8.4.4", "8.8.4.4/32"],
  ])("accepts the public address %j as %s", (body, prefix) => {
    expect(parseEchoAnswer(body)).toMatchObject({ ok: true, prefix });
  });

  it.each([
    ["10.1.2.3", "private"],
    ["192.168.0.1", "private"],
    ["172.16.5.4", "private"],
    ["127.0.0.1", "loopback"],
    ["169.254.1.1", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["::1", "loopback"],
    ["fe80::1", "linkLocal"],
    ["fd00::1", "uniqueLocal"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
  ])("refuses %s (%s)", (body, range) => {
    const a = parseEchoAnswer(body);
    expect(a.ok).toBe(false);
    expect(!a.ok && a.error).toContain(`is a ${range} address, not a public one`);
  });

  it.each([
    "",
    "<html>hello</html>",
    "8.8.8.8 1.1.1.1",
    "8.8.8",
    "0x08.8.8.8",
    "8.8.8.8/24",
    "999.1.1.1",
    '{"ip":"8.8.8.8"}',
  ])("refuses the malformed answer %j", (body) => {
    const a = parseEchoAnswer(body);
    expect(a.ok).toBe(false);
    expect(!a.ok && a.error).toContain("is not an IP address");
  });
});

function fake(answers: Record<string, { body?: string; status?: number; delayMs?: number }>): Fetcher {
  return async (url, init) => {
    const a = answers[url];
    if (a === undefined) throw new Error("connection refused");
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, a.delayMs ?? 0);
      init.signal.addEventListener("abort", () => {
        clearTimeout(t);
        reject(new Error("aborted"));
      });
    });
    return new Response(a.body ?? "", { status: a.status ?? 200 });
  };
}

describe("findMyIp", () => {
  it("takes the first valid answer, skipping refused ones", async () => {
    const f = fake({
      a: { body: "10.0.0.1" },
      b: { body: "8.8.8.8", delayMs: 20 },
      c: { body: "1.1.1.1", delayMs: 500 },
    });
    await expect(findMyIp(["a", "b", "c"], f, 2000)).resolves.toBe("8.8.8.8/32");
  });

  it("names every URL and why when none answers usably", async () => {
    const f = fake({ a: { body: "nope" }, b: { status: 503 } });
    const err = await findMyIp(["a", "b", "c"], f, 2000).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('a: the answer "nope" is not an IP address');
    expect(msg).toContain("b: HTTP 503");
    expect(msg).toContain("c: connection refused");
  });

  it("is bounded in time", async () => {
    const started = Date.now();
    const err = await findMyIp(["slow"], fake({ slow: { body: "8.8.8.8", delayMs: 10_000 } }), 100).catch(
      (e: unknown) => e as Error,
    );
    expect((err as Error).message).toContain("no answer within 100 ms");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reads the environment list as commas or spaces", () => {
    expect(echoUrlsFromEnv("http://a, http://b http://c")).toEqual(["http://a", "http://b", "http://c"]);
    expect(echoUrlsFromEnv(undefined)).toEqual([]);
  });
});
