// A small Dockerfile and .dockerignore reader for the packaging checks that need no Docker
// engine: instructions with line continuations joined, and .dockerignore rule evaluation.
import { readFileSync } from "node:fs";
import { posix } from "node:path";

export type Instruction = { keyword: string; args: string; line: number };

/** Instructions in order; comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending !== "" && line.trimStart().startsWith("#")) return;
    if (pending === "") startLine = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match !== null) {
      out.push({ keyword: (match[1] ?? "").toUpperCase(), args: match[2] ?? "", line: startLine });
    }
  });
  return out;
}

/** Splits `--flag=value` options off the front of COPY/FROM arguments. */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string[] } {
  const words = args.trim().split(/\s+/);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith("--") === true) {
    const [name = "", value = ""] = (words.shift() ?? "").slice(2).split("=", 2);
    flags.set(name, value);
  }
  return { flags, rest: words };
}

/** The exec-form (JSON array) of ENTRYPOINT/CMD, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Go filepath.Match semantics plus `**` (as Docker uses them): `*` and `?` stop at `/`, dots are
 * ordinary characters. */
function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      // "**/" matches zero or more directories; a trailing "**" matches anything.
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether .dockerignore keeps a path (relative, forward slashes) out of the build context:
 * the last rule matching the path or one of its parent directories decides; `!` re-includes.
 */
export function isIgnored(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const candidates: string[] = [];
  for (let p = posix.normalize(path); p !== "." && p !== "/"; p = posix.dirname(p)) candidates.push(p);
  let ignored = false;
  for (const rule of rules) {
    const negate = rule.startsWith("!");
    const pattern = posix.normalize(negate ? rule.slice(1) : rule).replace(/\/$/, "");
    const re = globToRegExp(pattern);
    if (candidates.some((c) => re.test(c))) ignored = !negate;
  }
  return ignored;
}

/** ENTRYPOINT and CMD (exec form) of the repository's Dockerfile's final stage. */
export function imageCommand(dockerfileText?: string): { entrypoint: string[]; cmd: string[] } {
  const text = dockerfileText ?? readFileSync(new URL("../../../Dockerfile", import.meta.url), "utf8");
  const all = parseDockerfile(text);
  const final = all.slice(all.map((i) => i.keyword).lastIndexOf("FROM"));
  const form = (keyword: string): string[] =>
    execForm(final.find((i) => i.keyword === keyword)?.args ?? "") ?? [];
  return { entrypoint: form("ENTRYPOINT"), cmd: form("CMD") };
}
