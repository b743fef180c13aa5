// --my-ip: the caller's public address, as IP echo services see it. Every URL is asked at once and the
// first valid answer wins; each answer must be one bare public IPv4 or IPv6 address (private, loopback,
// link-local, multicast and reserved ones are refused: they would open the rule to the wrong network),
// and the whole search is bounded in time. The answer becomes a /32 or /128 source prefix.
import ipaddr from "ipaddr.js";

export const DEFAULT_IP_ECHO_URLS = [
  "https://api64.ipify.org",
  "https://icanhazip.com",
  "https://ifconfig.me/ip",
];
export const DEFAULT_ECHO_TIMEOUT_MS = 5000;
/** An echo answer is one address: anything longer is not read to the end. */
const MAX_ANSWER_BYTES = 256;

export type EchoAnswer = { ok: true; prefix: string; family: "ipv4" | "ipv6" } | { ok: false; error: string };

/** Parse one echo service's body: a single public address, optionally followed by a newline. */
export function parseEchoAnswer(body: string): EchoAnswer {
  const text = body.trim();
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
  if (
    text === "" ||
    /\s/.test(text) ||
    !ipaddr.isValid(text) ||
    (!ipaddr.IPv4.isValidFourPartDecimal(text) && !text.includes(":"))
  ) {
    return { ok: false, error: `the answer ${shown} is not an IP address` };
  }
  let addr = ipaddr.parse(text);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  const range = addr.range();
  if (range !== "unicast") {
    return {
      ok: false,
      error: `the answer ${shown} is a ${range} address, not a public one; a grant for it would not let you in`,
    };
  }
  const family = addr.kind();
  return { ok: true, prefix: `${addr.toString()}/${family === "ipv4" ? 32 : 128}`, family };
}

/** The comma- or space-separated list of the DRAWBRIDGE_IP_ECHO_URLS variable (read by the caller). */
export function echoUrlsFromEnv(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter((u) => u !== "");
}

export type Fetcher = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

async function ask(url: string, fetcher: Fetcher, signal: AbortSignal): Promise<string> {
  const res = await fetcher(url, { signal });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.text()).slice(0, MAX_ANSWER_BYTES);
  const answer = parseEchoAnswer(body);
  if (!answer.ok) throw new Error(answer.error);
  return answer.prefix;
}

/** The first valid answer of `urls` within timeoutMs, or an error naming why each one failed. */
export async function findMyIp(urls: string[], fetcher: Fetcher, timeoutMs: number): Promise<string> {
  if (urls.length === 0) throw new Error("--my-ip: no IP echo URL is configured (--ip-echo-url)");
  const all = new AbortController();
  const signal = AbortSignal.any([all.signal, AbortSignal.timeout(timeoutMs)]);
  const failures: string[] = [];
  try {
    return await Promise.any(
      urls.map((u) =>
        ask(u, fetcher, signal).catch((err: unknown) => {
          const why =
            signal.aborted && !all.signal.aborted ? `no answer within ${timeoutMs} ms` : errorText(err);
          failures.push(`  ${u}: ${why}`);
          throw err;
        }),
      ),
    );
  } catch {
    throw new Error(
      `--my-ip: no IP echo service gave a usable public address:\n${failures.join("\n")}\nuse --source <ip> instead, or --ip-echo-url <url>`,
    );
  } finally {
    all.abort();
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
