// Go-style durations ("30s", "5m", "1h30m", "250ms") for flags, matching what Kubernetes operators
// conventionally accept, so `--resync-interval=5m` reads the same as in controller-runtime.

// "\u00b5" is µ (Go's other spelling of us). Escaped so the source stays ASCII: one non-ASCII
// character makes V8 hold the whole bundle chunk it lands in as two-byte text (3.6 MiB more).
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)/y;

/** Milliseconds in a Go duration string, or undefined when it is not one (negative is rejected). */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  if (s === "") return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (m === null) return undefined;
    const [, num, unit] = m;
    total += Number(num) * (UNIT_MS[unit ?? ""] ?? NaN);
    pos = PART.lastIndex;
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Shortest Go-style rendering of a millisecond count, for logs and docs ("5m", "1h30m", "250ms"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  return `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${rest > 0 ? `${rest}s` : ""}`;
}
