// Heap held by the resync's listed NSG documents between two lists, as the reconciler's Prefetch
// keeps them. The adapter maps each ObservedNsg it reads or writes to the SDK model it came from
// (weakly, for `nsg`-mode PUTs), so holding the ObservedNsg holds the whole SDK model too (default
// rules, rule ids, GUIDs); Prefetch keeps a slim copy instead, which shares only the strings the
// planner reads. (Listed NSGs no longer come with a model at all: the first figure is the old cost.)
// The documents are the estate scenario's (two foreign rules, a baseline deny and one grant), as the
// emulator serves them, flattened the way the SDK's deserializer flattens `properties`.
// Run: `node --expose-gc bench/prefetch-heap.ts [NSGs]` (prints JSON).
import type { NetworkSecurityGroup } from "@azure/arm-network";
import { fromSdkNsg } from "../src/azure/mapping.ts";
import { newEtag, nsgDoc } from "../src/emulator/nsg-model.ts";
import { slimNsg } from "../src/operator/nsg/prefetch.ts";
import { foreignRules, nsgId, sourceOf } from "./estate.ts";

type Json = Record<string, unknown>;

const mib = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;

/** ARM's `{ ..., properties: {...} }` as the SDK model: the properties lifted to the top. */
function flat(d: Json): Json {
  const { properties, ...rest } = d;
  return { ...rest, ...(properties as Json) };
}

function sdkModel(i: number): NetworkSecurityGroup {
  const id = nsgId(`nsg-${String(i)}`);
  const own = { direction: "Inbound", protocol: "Tcp", sourcePortRange: "*", destinationAddressPrefix: "*" };
  const rules = [
    ...foreignRules().map(({ name, ...properties }) => ({ name, properties })),
    {
      name: `drawbridge-p${String(i % 200)}-deny-tcp-22`,
      properties: {
        ...own,
        priority: 199,
        access: "Deny",
        sourceAddressPrefix: "*",
        destinationPortRange: "22",
      },
    },
    {
      name: `drawbridge-p${String(i % 200)}-allow-${String(i)}`,
      properties: {
        ...own,
        priority: 100,
        access: "Allow",
        sourceAddressPrefix: sourceOf(i),
        destinationPortRange: "22",
      },
    },
  ];
  const arm = JSON.parse(
    JSON.stringify(nsgDoc({ id, name: `nsg-${String(i)}`, location: "westeurope", rules }, newEtag())),
  ) as Json;
  const m = flat(arm);
  for (const k of ["securityRules", "defaultSecurityRules"]) m[k] = (m[k] as Json[]).map(flat);
  return m;
}

function measure(n: number, slim: boolean): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  gc();
  const before = process.memoryUsage().heapUsed;
  const sdkDocs = new WeakMap<object, NetworkSecurityGroup>();
  const held = new Map<number, object>();
  for (let i = 0; i < n; i++) {
    const sdk = sdkModel(i);
    const observed = fromSdkNsg(sdk);
    sdkDocs.set(observed, sdk);
    held.set(i, slim ? slimNsg(observed) : observed);
  }
  gc();
  const used = process.memoryUsage().heapUsed - before;
  // Read both after the measurement, so neither is collected early.
  if (held.size !== n || sdkDocs.has(held) || used <= 0) throw new Error("measurement went wrong");
  return mib(used);
}

const n = Number(process.argv[2] ?? 20_000);
const listed = measure(n, false);
const slimmed = measure(n, true);
console.log(JSON.stringify({ nsgs: n, listed_documents_mib: listed, slim_copies_mib: slimmed }));
