// Imported policies as a multi-document YAML stream, each with a comment naming its Defender
// sources and, where it applies, how Defender's "*" source was carried over.
import { Document, isMap, isScalar, isSeq } from "yaml";
import type { ImportedPolicy } from "./group.ts";
import { REQUESTER_ADDRESS_COMMENT } from "./ports.ts";

function one(p: ImportedPolicy): string {
  const doc = new Document(p.policy);
  doc.commentBefore =
    ` Imported from Defender for Cloud JIT (Microsoft.Security jitNetworkAccessPolicies 2020-01-01):\n` +
    p.sources.map((s) => `   ${s}`).join("\n") +
    "\n Review priorityRange: it must not overlap foreign rules or other policies' bands on the same NSGs.";
  const ports = doc.getIn(["spec", "ports"], true);
  if (isSeq(ports)) {
    for (const item of ports.items) {
      if (!isMap(item)) continue;
      const number = item.get("number");
      if (typeof number === "number" && p.requesterAddressPorts.includes(number)) {
        const pair = item.items.find((i) => isScalar(i.key) && i.key.value === "minimumSourcePrefixLength");
        if (pair !== undefined && isScalar(pair.key))
          pair.key.commentBefore = ` ${REQUESTER_ADDRESS_COMMENT}`;
      }
    }
  }
  return doc.toString({ lineWidth: 0 });
}

export function renderPolicies(policies: ImportedPolicy[]): string {
  return policies.map((p) => `---\n${one(p)}`).join("");
}
