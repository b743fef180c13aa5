// The sources one allow rule carries, kept as they come and go: a multiset of prefixes whose union
// (each address counted once) is known at any time, so the source-union bound of a new request is
// checked without parsing and sorting every peer's prefix per decision (that cost O(N) per
// decision, O(N^2) over a burst). Counts equal unionAddressCount over the same prefixes.
import { isWildcardPrefix, parsePrefix, prefixAddressCount } from "./cidr.ts";
import type { IpFamily } from "./cidr.ts";

interface Block {
  start: bigint;
  size: bigint;
}

/** Disjoint blocks sorted by start (no block inside another) and their total size. */
interface Cover {
  blocks: Block[];
  total: bigint;
}

/** The block a prefix text covers, or undefined for wildcards and invalid text (left out, as in unionAddressCount). */
export function blockOf(text: string): { block: Block; family: IpFamily; canonical: string } | undefined {
  if (isWildcardPrefix(text)) return undefined;
  const r = parsePrefix(text);
  if (!r.ok) return undefined;
  let start = 0n;
  for (const b of r.prefix.bytes) start = (start << 8n) | BigInt(b);
  return {
    block: { start, size: prefixAddressCount(r.prefix.family, r.prefix.bits) },
    family: r.prefix.family,
    // `text` itself when it is canonical (the grants' sources are): no copy per held source.
    canonical: r.prefix.text === text ? text : r.prefix.text,
  };
}

/** Index of the first block whose start is >= `start`. */
function lowerBound(blocks: readonly Block[], start: bigint): number {
  let lo = 0;
  let hi = blocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((blocks[mid]?.start ?? 0n) < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What `b` adds to the cover: 0 inside a block, else its size less the blocks inside it. */
function added(cover: Cover, b: Block): { at: number; inside: number; gain: bigint } {
  const at = lowerBound(cover.blocks, b.start);
  const before = cover.blocks[at - 1];
  const same = cover.blocks[at];
  if (before !== undefined && before.start + before.size > b.start) return { at, inside: -1, gain: 0n };
  if (same !== undefined && same.start === b.start && same.size >= b.size)
    return { at, inside: -1, gain: 0n };
  let gain = b.size;
  let inside = 0;
  const end = b.start + b.size;
  for (let i = at; i < cover.blocks.length; i++) {
    const c = cover.blocks[i];
    if (c === undefined || c.start >= end) break;
    gain -= c.size;
    inside++;
  }
  return { at, inside, gain };
}

function insert(cover: Cover, b: Block): void {
  const a = added(cover, b);
  if (a.inside < 0) return;
  cover.blocks.splice(a.at, a.inside, b);
  cover.total += a.gain;
}

/** Up to this many distinct blocks a union keeps their counts in a flat array instead of a Map. */
const FEW = 8;
const NONE: readonly (string | number)[] = Object.freeze([]);

export class PrefixUnion {
  /**
   * How many sources of each block are held, by the block's canonical text (wildcards and invalid
   * text never are): one entry per block, however it was spelled. Counts only, no parsed block per
   * source: a block is an object and a bigint (~80 bytes a source, most of this union's memory),
   * needed only in a cover, which is built when first read.
   */
  #many: Map<string, number> | undefined;
  /**
   * The same while at most FEW blocks are held (most rules carry a handful of sources): text,
   * count, text, count... in an array of its exact length, ~130 bytes for five blocks where a Map
   * takes ~300. Replaced, never grown in place (an array grown by push keeps room for 17 entries).
   */
  #few: readonly (string | number)[] = NONE;
  /**
   * Per family; undefined until read, and when a removal may have uncovered nested blocks (rebuilt
   * when read). Two fields, not a Map: an empty Map alone costs ~180 bytes, per allow rule.
   */
  #v4: Cover | undefined;
  #v6: Cover | undefined;

  /** One more source of this text (wildcards and invalid text are ignored). */
  add(text: string): void {
    const n = this.#count(text);
    if (n !== undefined) {
      this.#setCount(text, n + 1);
      return;
    }
    const parsed = blockOf(text);
    if (parsed === undefined) return;
    const more = this.#count(parsed.canonical);
    this.#setCount(parsed.canonical, (more ?? 0) + 1);
    if (more !== undefined) return;
    const cover = this.#coverOf(parsed.family);
    if (cover !== undefined) insert(cover, parsed.block);
  }

  /** One source of this text fewer (of its block, however it was spelled when added). */
  remove(text: string): void {
    let key = text;
    let n = this.#count(text);
    let parsed: ReturnType<typeof blockOf>;
    if (n === undefined) {
      // Another spelling of a held block (or nothing held).
      parsed = blockOf(text);
      if (parsed === undefined) return;
      key = parsed.canonical;
      n = this.#count(key);
      if (n === undefined) return;
    }
    if (n > 1) {
      this.#setCount(key, n - 1);
      return;
    }
    this.#forget(key);
    if (this.#v4 === undefined && this.#v6 === undefined) return;
    parsed ??= blockOf(text);
    if (parsed === undefined) return;
    const cover = this.#coverOf(parsed.family);
    if (cover === undefined) return;
    const { start, size } = parsed.block;
    const at = lowerBound(cover.blocks, start);
    const b = cover.blocks[at];
    // Not in the cover (inside another block): the union is the same without it.
    if (b?.start !== start || b.size !== size) return;
    if (size === 1n) {
      // A single address holds no other block inside it (an equal one is this very entry).
      cover.blocks.splice(at, 1);
      cover.total -= size;
      return;
    }
    // The blocks it held inside may be bare now.
    this.#setCover(parsed.family, undefined);
  }

  /** Whether no source is held (the caller may drop the union). */
  get empty(): boolean {
    return this.#many === undefined ? this.#few.length === 0 : this.#many.size === 0;
  }

  /** Addresses of `family` the held sources and `extra` (prefix texts) cover together. */
  totalWith(extra: readonly string[], family: IpFamily): bigint {
    const cover = this.#cover(family);
    if (extra.length === 0) return cover.total;
    const mine: Cover = { blocks: [], total: 0n };
    for (const text of extra) {
      const p = blockOf(text);
      if (p !== undefined && p.family === family) insert(mine, p.block);
    }
    let total = cover.total;
    for (const b of mine.blocks) total += added(cover, b).gain;
    return total;
  }

  #count(text: string): number | undefined {
    if (this.#many !== undefined) return this.#many.get(text);
    const few = this.#few;
    for (let i = 0; i < few.length; i += 2) if (few[i] === text) return few[i + 1] as number;
    return undefined;
  }

  #setCount(text: string, n: number): void {
    if (this.#many !== undefined) {
      this.#many.set(text, n);
      return;
    }
    const few = this.#few;
    for (let i = 0; i < few.length; i += 2) {
      if (few[i] !== text) continue;
      // The union's own array (NONE is empty): its count changes in place.
      (few as (string | number)[])[i + 1] = n;
      return;
    }
    if (few.length < FEW * 2) {
      // concat, not a spread: a spread array keeps room to grow (~280 bytes for ten entries, not 128).
      this.#few = few.concat(text, n);
      return;
    }
    this.#many = new Map();
    for (let i = 0; i < few.length; i += 2) this.#many.set(few[i] as string, few[i + 1] as number);
    this.#many.set(text, n);
    this.#few = NONE;
  }

  #forget(text: string): void {
    if (this.#many !== undefined) {
      this.#many.delete(text);
      return;
    }
    const few = this.#few;
    for (let i = 0; i < few.length; i += 2) {
      if (few[i] !== text) continue;
      this.#few = few.length === 2 ? NONE : few.slice(0, i).concat(few.slice(i + 2));
      return;
    }
  }

  /** The canonical texts of the blocks held. */
  #texts(): Iterable<string> {
    if (this.#many !== undefined) return this.#many.keys();
    return this.#few.filter((_, i) => i % 2 === 0) as string[];
  }

  #coverOf(family: IpFamily): Cover | undefined {
    return family === "IPv4" ? this.#v4 : this.#v6;
  }

  #setCover(family: IpFamily, cover: Cover | undefined): void {
    if (family === "IPv4") this.#v4 = cover;
    else this.#v6 = cover;
  }

  #cover(family: IpFamily): Cover {
    let cover = this.#coverOf(family);
    if (cover !== undefined) return cover;
    const blocks: Block[] = [];
    for (const text of this.#texts()) {
      const p = blockOf(text);
      if (p !== undefined && p.family === family) blocks.push(p.block);
    }
    // Wider first on a tie of start, so a nested block always follows the one it lies in.
    blocks.sort((a, b) =>
      a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.size === b.size ? 0 : a.size > b.size ? -1 : 1,
    );
    cover = { blocks: [], total: 0n };
    for (const b of blocks) insert(cover, b);
    this.#setCover(family, cover);
    return cover;
  }
}
