// --target: a VM or NSG name (the last segment of its ARM id) or the full ARM id, resolved against
// the policy's targets so spec.targets carries the ids exactly as the policy writes them.
import type { JitPolicy } from "../../../api/types.ts";
import { UsageError } from "../args.ts";

export function resolveTargets(given: string[], policy: JitPolicy | undefined): string[] | undefined {
  if (given.length === 0) return undefined;
  const ids = (policy?.spec.targets ?? []).map((t) => t.virtualMachineId ?? t.networkSecurityGroupId ?? "");
  return given.map((g) => {
    const want = g.toLowerCase();
    const hits = ids.filter(
      (id) => id.toLowerCase() === want || (id.split("/").pop() ?? "").toLowerCase() === want,
    );
    if (hits.length === 1 && hits[0] !== undefined) return hits[0];
    if (hits.length > 1)
      throw new UsageError(`--target ${g} names several targets of the policy; give the ARM id`);
    // Unknown here: passed on as given, and the precheck names it with the operator's message.
    return g;
  });
}
