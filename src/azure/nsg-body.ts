// The body of a whole-NSG PUT (write mode `nsg`): the NSG exactly as last read, with only the
// drawbridge- rules replaced. Foreign rules are copied from the read document, never from the
// caller, so a planner bug cannot change, renumber or drop them.
import type { NetworkSecurityGroup, SecurityRule as SdkSecurityRule } from "@azure/arm-network";
import { isManagedRule, type SecurityRule } from "../core/nsg.ts";
import { toSdkRule } from "./mapping.ts";
import { AzureError } from "./port.ts";

/**
 * `desired` may list only the managed rules, or every rule; a foreign rule in it must already be in
 * the NSG (it is then kept as read). A new or missing-from-NSG foreign rule is refused.
 */
export function buildNsgPutBody(
  observed: NetworkSecurityGroup,
  desired: SecurityRule[],
): NetworkSecurityGroup {
  const foreign = (observed.securityRules ?? []).filter((r) => !isManagedRule({ name: r.name ?? "" }));
  const foreignNames = new Set(foreign.map((r) => (r.name ?? "").toLowerCase()));
  const managed: SdkSecurityRule[] = [];
  const seen = new Set<string>();
  for (const rule of desired) {
    const key = rule.name.toLowerCase();
    if (seen.has(key)) {
      throw new AzureError("Invalid", `replaceRules: rule name ${JSON.stringify(rule.name)} appears twice`, {
        code: "DuplicateRuleName",
      });
    }
    seen.add(key);
    if (isManagedRule(rule)) {
      managed.push(toSdkRule(rule));
    } else if (!foreignNames.has(key)) {
      throw new AzureError(
        "Invalid",
        `replaceRules: refusing to write foreign rule ${JSON.stringify(rule.name)} that is not in ${observed.id ?? "the NSG"}; only drawbridge- rules are written`,
        { code: "ForeignRuleRefused" },
      );
    }
  }
  return { ...observed, securityRules: [...foreign, ...managed] };
}
