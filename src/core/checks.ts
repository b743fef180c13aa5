// Small reusable checks for defence-in-depth validation. Each returns an Issue or undefined and
// names the field and the limit in its message.
import { isWildcardPrefix, parsePrefix } from "./cidr.ts";
import { parseDuration } from "./duration.ts";
import { formatDuration } from "./duration.ts";
import type { Issue } from "./types.ts";

export function issue(reason: string, field: string, message: string): Issue {
  return { reason, field, message };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function show(value: unknown): string {
  // JSON.stringify returns undefined for undefined and functions, whatever its declared type says.
  const json = JSON.stringify(value) as string | undefined;
  const text = typeof value === "string" ? `"${value}"` : (json ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A string of min..max characters, or an issue with `reason`. */
export function checkString(
  value: unknown,
  field: string,
  reason: string,
  limits: { min: number; max: number; nonBlank?: boolean },
): Issue | undefined {
  if (value === undefined) return issue("MissingField", field, `${field} is required`);
  if (typeof value !== "string") return issue(reason, field, `${field} must be a string, got ${show(value)}`);
  if (value.length < limits.min || value.length > limits.max) {
    return issue(
      reason,
      field,
      `${field} must be ${limits.min} to ${limits.max} characters long, got ${value.length}`,
    );
  }
  if (limits.nonBlank === true && value.trim() === "")
    return issue(reason, field, `${field} must not be blank`);
  return undefined;
}

export function checkInteger(
  value: unknown,
  field: string,
  reason: string,
  range: { min: number; max: number },
): Issue | undefined {
  if (value === undefined) return issue("MissingField", field, `${field} is required`);
  if (typeof value !== "number" || !Number.isInteger(value) || value < range.min || value > range.max) {
    return issue(
      reason,
      field,
      `${field} must be an integer from ${range.min} to ${range.max}, got ${show(value)}`,
    );
  }
  return undefined;
}

/** An array of min..max items, or an issue. */
export function checkArray(
  value: unknown,
  field: string,
  reason: string,
  limits: { min: number; max: number },
): Issue | undefined {
  if (value === undefined) return issue("MissingField", field, `${field} is required`);
  if (!Array.isArray(value)) return issue(reason, field, `${field} must be a list, got ${show(value)}`);
  if (value.length < limits.min || value.length > limits.max) {
    return issue(
      reason,
      field,
      `${field} must have ${limits.min} to ${limits.max} entries, got ${value.length}`,
    );
  }
  return undefined;
}

/** The exact wildcard spellings the API accepts (CEL: self in ['*', 'Internet', 'Any'] or a CIDR). */
const ACCEPTED_WILDCARDS = new Set(["*", "Internet", "Any"]);

/**
 * An IPv4/IPv6 address or CIDR with host bits zero; with allowWildcard also "*", "Internet", "Any".
 * Other spellings of a wildcard ("internet", "ANY") are refused: a typo must not mean "everyone".
 */
export function checkPrefix(
  value: unknown,
  field: string,
  reason: string,
  allowWildcard: boolean,
): Issue | undefined {
  if (typeof value !== "string") return issue(reason, field, `${field} must be a string, got ${show(value)}`);
  if (allowWildcard && ACCEPTED_WILDCARDS.has(value)) return undefined;
  if (!allowWildcard && isWildcardPrefix(value)) {
    return issue(
      reason,
      field,
      `${field} must be a specific address or CIDR prefix, not the wildcard ${show(value)}`,
    );
  }
  const parsed = parsePrefix(value);
  if (!parsed.ok) {
    const hint = allowWildcard ? " (or one of the wildcards *, Internet, Any, 0.0.0.0/0, ::/0)" : "";
    return issue(reason, field, `${field}: ${parsed.error}; use e.g. 203.0.113.0/24${hint}`);
  }
  return undefined;
}

const DURATION_SHAPE = /^P(\d{1,5}D)?(T(\d{1,5}H)?(\d{1,5}M)?(\d{1,5}S)?)?$/;

/** An ISO-8601 PnDTnHnMnS duration (each n at most 5 digits, no fractions) within [minMs, maxMs]. */
export function checkDuration(
  value: unknown,
  field: string,
  bounds: { minMs: number; maxMs: number; tooShort: string; tooLong: string },
): { issue?: Issue; ms?: number } {
  if (value === undefined) return { issue: issue("MissingField", field, `${field} is required`) };
  if (typeof value !== "string") {
    return {
      issue: issue(
        "InvalidDuration",
        field,
        `${field} must be an ISO-8601 duration string, got ${show(value)}`,
      ),
    };
  }
  const parsed = parseDuration(value);
  if (!parsed.ok) return { issue: issue("InvalidDuration", field, `${field}: ${parsed.error}`) };
  if (!DURATION_SHAPE.test(value)) {
    const msg = `${field}: ${show(value)} must have the form P[nD][T[nH][nM][nS]] with whole numbers of at most 5 digits`;
    return { issue: issue("InvalidDuration", field, msg) };
  }
  const range = `${formatDuration(bounds.minMs)}..${formatDuration(bounds.maxMs)}`;
  if (parsed.ms < bounds.minMs) {
    return {
      issue: issue(
        bounds.tooShort,
        field,
        `${field} ${value} is below the minimum ${formatDuration(bounds.minMs)} (${range})`,
      ),
    };
  }
  if (parsed.ms > bounds.maxMs) {
    return {
      issue: issue(
        bounds.tooLong,
        field,
        `${field} ${value} exceeds the maximum ${formatDuration(bounds.maxMs)} (${range})`,
      ),
    };
  }
  return { ms: parsed.ms };
}

/** Entries of a set-typed list that repeat an earlier entry (field of the repeat, e.g. "x[1]"). */
export function duplicateIssues(values: unknown[], field: string, reason: string): Issue[] {
  const out: Issue[] = [];
  values.forEach((v, i) => {
    if (values.indexOf(v) !== i)
      out.push(issue(reason, `${field}[${i}]`, `${field}[${i}] repeats ${show(v)}`));
  });
  return out;
}
