// The open requests per requester and per namespace, kept from the request informer's events, so
// the limits of an undecided request are counted without scanning the whole cache (countOpenAhead
// over every cached request cost O(N) per decision, O(N^2) over a burst). Counts equal
// countOpenAhead's: every other open approved request, every other undecided one that may still
// open and comes first (compareAge), and every approval in flight.
import type { AccessRequest } from "../../api/types.ts";
import { isTerminal } from "../../core/phases.ts";
import { cacheKey } from "../../runtime/informer.ts";
import { splitKey } from "./keys.ts";

/** Open requests that count against one request's limits, per requester and per namespace. */
export interface OpenCounts {
  requester: number;
  namespace: number;
}

/** creationTimestamp, namespace, name: the order undecided requests are decided in. */
type Age = readonly [string, string, string];

function ageOf(r: AccessRequest): Age {
  const m = r.metadata;
  return [m.creationTimestamp ?? "", m.namespace ?? "", m.name ?? ""];
}

function compareAge(a: Age, b: Age): number {
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? "";
    const y = b[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** How a non-terminal request counts: approved, undecided that may open (with its age), or neither. */
interface Filed {
  requester: string | undefined;
  namespace: string | undefined;
  approved: boolean;
  age: Age | undefined;
}

class Group {
  approved = 0;
  /** Ages of the undecided requests that may still open, sorted. */
  readonly undecided: Age[] = [];

  /** How many undecided ones come before `age`. */
  before(age: Age): number {
    let lo = 0;
    let hi = this.undecided.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareAge(this.undecided[mid] ?? age, age) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  change(f: Filed, by: 1 | -1): void {
    if (f.approved) this.approved += by;
    else if (f.age !== undefined && by > 0) this.undecided.splice(this.before(f.age), 0, f.age);
    else if (f.age !== undefined) {
      const at = this.before(f.age);
      const there = this.undecided[at];
      if (there !== undefined && compareAge(there, f.age) === 0) this.undecided.splice(at, 1);
    }
  }

  get empty(): boolean {
    return this.approved === 0 && this.undecided.length === 0;
  }
}

function filedOf(r: AccessRequest): Filed | undefined {
  // Informer objects are JSON from the API server: a spec-less object must not throw in a handler.
  const spec = r.spec as AccessRequest["spec"] | undefined;
  if (isTerminal(r.status?.phase)) return undefined;
  const approved = r.status?.startTime !== undefined;
  const mayOpen = r.metadata.deletionTimestamp === undefined && spec?.revoked !== true;
  return {
    requester: spec?.requester,
    namespace: r.metadata.namespace,
    approved,
    age: !approved && mayOpen ? ageOf(r) : undefined,
  };
}

/**
 * How a request is kept: an approved one (nearly all held requests) as its requester alone, the
 * namespace being the key's; others as their Filed. Saves an object per held request.
 */
type Kept = string | Filed;

/** "" and undefined are the same namespace in a cache key (cacheKey). */
function nonEmpty(namespace: string | undefined): string | undefined {
  return namespace === "" ? undefined : namespace;
}

function keep(f: Filed): Kept {
  // The namespace must come back from where it is filed as it was ("" would come back undefined).
  const plain = f.approved && f.namespace !== undefined && f.namespace !== "";
  return plain && f.requester !== undefined ? f.requester : f;
}

/** The namespace and name of a cache key; a cluster-scoped key's namespace is undefined. */
function whereOf(key: string): { namespace: string | undefined; name: string } {
  const { namespace, name } = splitKey(key);
  return { namespace: namespace === "" ? undefined : namespace, name };
}

export class OpenRequestIndex {
  /**
   * Per namespace, per name: keyed by the request's own strings, not a "namespace/name" key per
   * request (~40 bytes each). The namespace undefined stands for a request without one.
   */
  readonly #filed = new Map<string | undefined, Map<string, Kept>>();
  #size = 0;
  readonly #byRequester = new Map<string | undefined, Group>();
  readonly #byNamespace = new Map<string | undefined, Group>();

  /** Record a request as it is now (or its deletion). */
  update(r: AccessRequest, deleted: boolean): void {
    const where = { namespace: nonEmpty(r.metadata.namespace), name: r.metadata.name ?? "" };
    const before = this.#find(where.namespace, where.name);
    if (before !== undefined) this.#change(before, -1);
    this.#forget(where.namespace, where.name);
    const after = deleted ? undefined : filedOf(r);
    if (after === undefined) return;
    this.#file(where.namespace, where.name, keep(after));
    this.#change(after, 1);
  }

  /** countOpenAhead(request, cache, o => inFlight has o's key), from the index; keys distinct. */
  openAhead(request: AccessRequest, inFlight: Iterable<string>): OpenCounts {
    const spec = request.spec as AccessRequest["spec"] | undefined;
    const age = ageOf(request);
    const me: Filed = {
      requester: spec?.requester,
      namespace: request.metadata.namespace,
      approved: false,
      age,
    };
    const count = (g: Group | undefined): number => (g === undefined ? 0 : g.approved + g.before(age));
    const counts: OpenCounts = {
      requester: count(this.#byRequester.get(me.requester)),
      namespace: count(this.#byNamespace.get(me.namespace)),
    };
    // Itself and the request a renewal carries on are not counted: take them out where they were.
    const skip = new Set([cacheKey(me.namespace, request.metadata.name ?? "")]);
    if (spec?.supersedes !== undefined) skip.add(cacheKey(me.namespace, spec.supersedes));
    for (const key of skip) {
      const f = this.#get(key);
      if (f !== undefined && counted(f, age)) add(counts, me, f, -1);
    }
    // An approval in flight counts as approved (once: those counted above are left alone). One whose
    // write landed is kept as a plain string (approved, so counted already): skipped without making
    // a Filed of it, as this runs over every approval in flight for every decision.
    for (const key of inFlight) {
      const { namespace, name } = whereOf(key);
      const f = this.#filed.get(namespace)?.get(name);
      if (f === undefined || typeof f === "string") continue;
      if (!skip.has(key) && !counted(f, age)) add(counts, me, f, 1);
    }
    return counts;
  }

  get size(): number {
    return this.#size;
  }

  #get(key: string): Filed | undefined {
    const { namespace, name } = whereOf(key);
    return this.#find(namespace, name);
  }

  #find(namespace: string | undefined, name: string): Filed | undefined {
    const k = this.#filed.get(namespace)?.get(name);
    if (typeof k !== "string") return k;
    return { requester: k, namespace, approved: true, age: undefined };
  }

  #file(namespace: string | undefined, name: string, kept: Kept): void {
    let names = this.#filed.get(namespace);
    if (names === undefined) this.#filed.set(namespace, (names = new Map<string, Kept>()));
    names.set(name, kept);
    this.#size++;
  }

  #forget(namespace: string | undefined, name: string): void {
    const names = this.#filed.get(namespace);
    if (names === undefined || !names.delete(name)) return;
    this.#size--;
    if (names.size === 0) this.#filed.delete(namespace);
  }

  #change(f: Filed, by: 1 | -1): void {
    changeIn(this.#byRequester, f.requester, f, by);
    changeIn(this.#byNamespace, f.namespace, f, by);
  }
}

/** Whether the group counts already include it for a request of this age. */
function counted(f: Filed, age: Age): boolean {
  return f.approved || (f.age !== undefined && compareAge(f.age, age) < 0);
}

function add(counts: OpenCounts, me: Filed, f: Filed, by: 1 | -1): void {
  if (f.requester === me.requester) counts.requester += by;
  if (f.namespace === me.namespace) counts.namespace += by;
}

function changeIn(
  groups: Map<string | undefined, Group>,
  key: string | undefined,
  f: Filed,
  by: 1 | -1,
): void {
  let g = groups.get(key);
  if (g === undefined) groups.set(key, (g = new Group()));
  g.change(f, by);
  if (g.empty) groups.delete(key);
}
