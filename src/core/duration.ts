// ISO-8601 durations as used by the API: the day/time subset PnDTnHnMnS (fractional seconds allowed).
// Years, months and weeks are rejected because their length in milliseconds is not fixed.

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Bounds from the API contract (docs/api.md). */
export const DURATION_BOUNDS = {
  requestMinMs: 10 * SECOND,
  requestMaxMs: DAY,
  policyMaxMinMs: MINUTE,
  policyMaxMaxMs: DAY,
} as const;

const PATTERN = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

export function parseDuration(text: string): DurationResult {
  if (/^P.*[YW]/.test(text) || /^P[^T]*M/.test(text)) {
    return { ok: false, error: `"${text}" uses years, months or weeks; use days and time (e.g. P1D, PT3H)` };
  }
  const m = PATTERN.exec(text);
  if (m === null || text === "P" || text.endsWith("T")) {
    return { ok: false, error: `"${text}" is not an ISO-8601 duration like PT30M, PT3H or P1D` };
  }
  const [, d, h, min, s] = m;
  const ms =
    Number(d ?? 0) * DAY +
    Number(h ?? 0) * HOUR +
    Number(min ?? 0) * MINUTE +
    Math.round(Number(s ?? 0) * SECOND);
  if (!Number.isSafeInteger(ms)) return { ok: false, error: `"${text}" is too long` };
  return { ok: true, ms };
}

/** Formats milliseconds as the shortest PnDTnHnMnS text ("PT0S" for zero). */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  const days = Math.floor(whole / DAY);
  let rest = whole - days * DAY;
  const hours = Math.floor(rest / HOUR);
  rest -= hours * HOUR;
  const minutes = Math.floor(rest / MINUTE);
  rest -= minutes * MINUTE;
  const seconds = rest / SECOND;
  let time = "";
  if (hours > 0) time += `${hours}H`;
  if (minutes > 0) time += `${minutes}M`;
  if (seconds > 0) time += `${seconds}S`;
  if (days === 0 && time === "") return "PT0S";
  return `P${days > 0 ? `${days}D` : ""}${time === "" ? "" : `T${time}`}`;
}
