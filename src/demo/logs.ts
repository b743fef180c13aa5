// The operator's JSON log lines, shortened for a person watching the demo terminal.
export function compactLogLine(line: string): string | undefined {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trim() === "" ? undefined : `operator: ${line}`;
  }
  const level = typeof rec.level === "string" ? rec.level : "info";
  if (level === "debug" || level === "trace") return undefined;
  const time = typeof rec.time === "string" ? rec.time.slice(11, 19) : "";
  const fields: string[] = [];
  for (const k of ["request", "policy", "phase", "reason"]) {
    const v = rec[k];
    if (typeof v === "string") fields.push(`${k}=${v}`);
  }
  if (typeof rec.nsg === "string") fields.push(`nsg=${rec.nsg.split("/").pop() ?? rec.nsg}`);
  const msg = typeof rec.msg === "string" ? rec.msg : "";
  const lvl = level === "info" ? "" : `${level.toUpperCase()} `;
  return `  [operator ${time}] ${lvl}${msg}${fields.length > 0 ? `  (${fields.join(" ")})` : ""}`;
}
