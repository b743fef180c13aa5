// Durable state: a snapshot (state.json, written to a temp file and renamed) plus an append-only
// journal of every change since the snapshot. Each write is appended before it is answered, so a
// restart — even after a kill — loses nothing; replaying the journal is idempotent.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { JournalEntry, Snapshot, Store } from "./store.ts";

const COMPACT_AFTER = 5000;

export class Persister {
  private readonly dir: string;
  private readonly store: Store;
  private fd: number | undefined;
  private entries = 0;

  constructor(dir: string, store: Store) {
    this.dir = dir;
    this.store = store;
    mkdirSync(dir, { recursive: true });
  }

  get snapshotFile(): string {
    return join(this.dir, "state.json");
  }

  get journalFile(): string {
    return join(this.dir, "journal.ndjson");
  }

  /** Loads snapshot + journal into the store; returns whether any state existed. */
  load(): boolean {
    let found = false;
    if (existsSync(this.snapshotFile)) {
      const snap = JSON.parse(readFileSync(this.snapshotFile, "utf8")) as Snapshot;
      for (const g of snap.groups) this.store.apply({ k: "rg", id: g });
      for (const r of snap.resources) this.store.apply({ k: "res", doc: r });
      for (const n of snap.nsgs) this.store.apply({ k: "nsg", doc: n });
      found = true;
    }
    if (existsSync(this.journalFile)) {
      for (const line of readFileSync(this.journalFile, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try {
          this.store.apply(JSON.parse(line) as JournalEntry);
          found = true;
        } catch {
          // A torn last line (killed mid-append) is the only partial write possible; skip it.
        }
      }
    }
    return found;
  }

  /** Compacts, then journals every further change of the store. */
  start(): void {
    this.compact();
    this.store.journal = (e): void => {
      this.append(e);
    };
  }

  private append(e: JournalEntry): void {
    this.fd ??= openSync(this.journalFile, "a");
    const line = e.k === "nsg" ? `{"k":"nsg","doc":${this.store.jsonOf(e.doc)}}` : JSON.stringify(e);
    writeSync(this.fd, `${line}\n`);
    this.entries += 1;
    if (this.entries >= COMPACT_AFTER) this.compact();
  }

  compact(): void {
    const tmp = `${this.snapshotFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.store.snapshot()));
    renameSync(tmp, this.snapshotFile);
    if (this.fd !== undefined) closeSync(this.fd);
    writeFileSync(this.journalFile, "");
    this.fd = openSync(this.journalFile, "a");
    this.entries = 0;
  }

  close(): void {
    this.store.journal = undefined;
    this.compact();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
