// Durations as people write them: "90m", "1h", "1h30m", "2d", "45s", or ISO-8601 "PT1H". The result is
// the API's ISO-8601 form; whether it fits the policy is checked by the operator's own core checks.
import { formatDuration, parseDuration } from "../../core/duration.ts";

export type HumanDuration = { ok: true; iso: string; ms: number } | { ok: false; error: string };

const UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
const HUMAN = /^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/;

export function parseHumanDuration(text: string): HumanDuration {
  const t = text.trim();
  if (/^P/i.test(t)) {
    const iso = parseDuration(t.toUpperCase());
    return iso.ok
      ? { ok: true, iso: formatDuration(iso.ms), ms: iso.ms }
      : { ok: false, error: `--for ${iso.error}` };
  }
  const m = HUMAN.exec(t.toLowerCase());
  if (t === "" || m === null) {
    return { ok: false, error: `--for "${text}" is not a duration; write e.g. 90m, 1h, 1h30m, 2d or PT1H` };
  }
  let ms = 0;
  for (const part of m.slice(1) as (string | undefined)[]) {
    if (part === undefined) continue;
    const unit = part.slice(-1);
    ms += Number(part.slice(0, -1)) * (UNITS[unit] ?? 0);
  }
  if (!Number.isSafeInteger(ms) || ms <= 0)
    return { ok: false, error: `--for "${text}" must be longer than zero` };
  return { ok: true, iso: formatDuration(ms), ms };
}
