// A plan reads each observed rule name once (readOwnName): its format, and what the index of living
// rules files it by, taking the text before the tail of a name as checked when it repeats the last
// current-format name's exactly. Both must answer what the slow paths answer: ownNameFormat per
// name, and the living index reading every name itself (newLivingIndex). Names come as runs that
// repeat a binding's prefix with near misses between them (one character changed, another letter
// case, a non-ASCII look-alike), the cases where a wrong shortcut would call a name own.
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { bindingRulePrefix } from "../../../src/core/names.ts";
import { legacyRulePrefix } from "../../../src/core/legacy-names.ts";
import { livingIndexFrom, newLivingIndex } from "../../../src/core/living.ts";
import type { LivingIndex } from "../../../src/core/living.ts";
import type { SecurityRule } from "../../../src/core/nsg.ts";
import {
  NOT_OWN,
  UNPARSED_KEY,
  nameReader,
  ownGrammar,
  ownNameFormat,
  readOwnName,
} from "../../../src/core/rule-grammar.ts";
import type { NameFormat, NameParts } from "../../../src/core/rule-grammar.ts";
import { nearMissNames } from "./nsg-sim.ts";

const numRuns = process.env["CI"] ? 5000 : 500;
const TARGET = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-";
const INSTANCES = ["", "a1"];
const HEADS = INSTANCES.flatMap((instance) => [
  bindingRulePrefix("team-a/web", `${TARGET}1`, instance),
  bindingRulePrefix("team-a/web", `${TARGET}2`, instance),
  bindingRulePrefix("team-b/db-admin.x_y", `${TARGET}1`, instance),
  bindingRulePrefix("q".repeat(60), `${TARGET}3`, instance),
  legacyRulePrefix("team-a/web", `${TARGET}1`.toLowerCase(), instance),
]);
const TAILS = [
  "tcp-22",
  "udp-65535",
  "any-0",
  "Tcp-443",
  "tcp-65536",
  "tcp-022",
  "tcp-",
  "sctp-22",
  "deny-tcp",
  "deny-any",
  "DENY-UDP",
  "deny-icmp",
  "x",
];
/** Replacements that keep a name ASCII-valid, break it, or only look alike ("K" is the Kelvin sign). */
const CHARS = ["g", "G", "-", "_", ".", "0", "f", "F", " ", "K", "ı", "é", "/"];

const noMutation = { kind: "none" as const, at: 0, ch: "" };
const mutationArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(noMutation) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("set" as const), at: fc.nat(), ch: fc.constantFrom(...CHARS) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      ch: fc.constantFrom(...CHARS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), ch: fc.constant("") }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "upper" as const, at: 0, ch: "" }) },
);

/** A run of names of one head (a binding's prefix), each with its own tail and, maybe, a change. */
const runArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      head: fc.nat(),
      names: fc.array(fc.tuple(fc.nat(), mutationArb), { minLength: 1, maxLength: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ nearMiss: fc.nat(), instance: fc.nat() }) },
);

type Mutation = { kind: string; at: number; ch: string };

function nearMiss(spec: { nearMiss: number; instance: number }): string {
  const head = INSTANCES[spec.instance % INSTANCES.length] === "" ? "drawbridge-" : "drawbridge.a1-";
  const list = nearMissNames(head);
  return list[spec.nearMiss % list.length] ?? "";
}

function nameOf(head: number, tail: number, mutation: Mutation): string {
  const name = `${HEADS[head % HEADS.length] ?? ""}${TAILS[tail % TAILS.length] ?? ""}`;
  const at = mutation.at % (name.length + 1);
  switch (mutation.kind) {
    case "set":
      return `${name.slice(0, at)}${mutation.ch}${name.slice(at + 1)}`;
    case "insert":
      return `${name.slice(0, at)}${mutation.ch}${name.slice(at)}`;
    case "delete":
      return `${name.slice(0, at)}${name.slice(at + 1)}`;
    case "upper":
      return name.toUpperCase();
    default:
      return name;
  }
}

function rule(name: string): SecurityRule {
  return {
    name,
    priority: 200,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "22",
  };
}

/** What a plan reads (plan-context.ts): the format of every name, the index of the own ones. */
function readAll(names: string[], instance: string): { formats: NameFormat[]; index: LivingIndex } {
  const n = names.length;
  const parts: NameParts = {
    keys: new Int32Array(n),
    prefixLengths: new Int32Array(n),
    hashes: new Int32Array(n),
    heads: new Int32Array(n),
  };
  const reader = nameReader(ownGrammar(instance), parts);
  const own: SecurityRule[] = [];
  const formats = names.map((name) => {
    const format = readOwnName(name, reader, own.length);
    if (format !== NOT_OWN) own.push(rule(name));
    return format;
  });
  const m = own.length;
  const index = livingIndexFrom(own, {
    keys: parts.keys.subarray(0, m),
    prefixLengths: parts.prefixLengths.subarray(0, m),
    hashes: parts.hashes.subarray(0, m),
    heads: parts.heads?.subarray(0, m),
  });
  return { formats, index };
}

/** The index as a comparable value: parts of names that match no binding are not read. */
function shape(index: LivingIndex): unknown {
  const parsed = (i: number): boolean => index.keys[i] !== UNPARSED_KEY;
  return {
    names: index.rules.map((r) => r.name),
    lastOf: [...index.lastOf],
    keys: [...index.keys],
    prefixLengths: [...index.prefixLengths].map((v, i) => (parsed(i) ? v : null)),
    hashes: [...index.hashes].map((v, i) => (parsed(i) ? v : null)),
    heads: [...index.heads],
    next: [...index.next].map((v, i) => (parsed(i) ? v : null)),
    others: [...index.others],
  };
}

/**
 * The rules whose head (NameParts.heads) has other text before their tail than they do: none may,
 * as the living index answers for all rules of a head from one of them.
 */
function sharedHeads(index: LivingIndex): string[] {
  const out: string[] = [];
  index.rules.forEach((r, i) => {
    if (index.keys[i] === UNPARSED_KEY) return;
    const length = index.prefixLengths[i] ?? 0;
    const head = index.rules[index.nameHeads?.[i] ?? -1]?.name ?? "";
    if (
      head.slice(0, length) !== r.name.slice(0, length) ||
      (index.prefixLengths[index.nameHeads?.[i] ?? -1] ?? -1) !== length
    ) {
      out.push(r.name);
    }
  });
  return out;
}

describe("reading rule names once per plan", () => {
  it("gives ownNameFormat's answer and newLivingIndex's index for runs of names and near misses", () => {
    fc.assert(
      fc.property(fc.array(runArb, { maxLength: 12 }), fc.constantFrom(...INSTANCES), (runs, instance) => {
        const names: string[] = [];
        for (const run of runs) {
          if ("nearMiss" in run) names.push(nearMiss(run));
          else for (const [tail, m] of run.names) names.push(nameOf(run.head, tail, m));
        }
        const { formats, index } = readAll(names, instance);
        const g = ownGrammar(instance);
        expect(formats).toEqual(names.map((name) => ownNameFormat(name, g)));
        expect(shape(index)).toEqual(shape(newLivingIndex(index.rules)));
        expect(sharedHeads(index)).toEqual([]);
      }),
      { numRuns },
    );
  });

  it("never takes a name for own because its head only looks like the last one read", () => {
    const head = bindingRulePrefix("team-k/web", `${TARGET}1`);
    const kelvin = head.replace("team-k", "team-\u212a"); // the Kelvin sign lower-cases to "k"
    const names = [
      "deny-tcp", // a tail and nothing before it, read before any head
      `${head}tcp-22`,
      `${kelvin}tcp-22`,
      `${head.toUpperCase()}tcp-22`,
      `${head}tcp-022`,
    ];
    expect(readAll(names, "").formats).toEqual([NOT_OWN, 1, NOT_OWN, 1, NOT_OWN]);
  });
});
