// Rule names of the format before the 64-bit hash: "<instance prefix><slug of up to 48>-<hash8>-..."
// where the hash was the low 32 bits of cyrb53 over "<policy key>\n<lower-cased target id>". Kept
// only to tell which binding a legacy baseline deny belonged to during the upgrade (ADR 0011): such
// a deny stays until the binding's new deny is in place, so that no port is ever more open than it
// was. Nothing new is ever named this way.
import { instanceRulePrefix } from "./nsg.ts";

const SEED1 = 0xdeadbeef | 0;
const SEED2 = 0x41c6ce57;
const M1 = 2654435761 | 0;
const M2 = 1597334677;
const M3 = 2246822507 | 0;
const M4 = 3266489909 | 0;

function cyrb53Low32(text: string): number {
  let h1 = SEED1;
  let h2 = SEED2;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, M1);
    h2 = Math.imul(h2 ^ ch, M2);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), M3) ^ Math.imul(h2 ^ (h2 >>> 13), M4);
  return h1 >>> 0;
}

/** The longest legacy slug of an instance: 48, or what kept a named instance's names within 80. */
function legacySlugMax(instance: string): number {
  if (instance === "") return 48;
  return Math.min(48, 80 - instanceRulePrefix(instance).length - 19);
}

/** The legacy binding prefix of (policy, lower-cased target id), lower-cased for comparison. */
export function legacyRulePrefix(policyKey: string, lowerTargetId: string, instance: string): string {
  const slug = policyKey.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, legacySlugMax(instance));
  const hash = cyrb53Low32(`${policyKey}\n${lowerTargetId}`).toString(16).padStart(8, "0");
  return `${instanceRulePrefix(instance)}${slug}-${hash}-`.toLowerCase();
}
