// Public option and handle types of the ARM emulator (see docs/emulator.md).

export interface LatencyOptions {
  /** Milliseconds added to every read (GET) request. */
  read?: number;
  /** Milliseconds added to every write; the NSG stays busy (locked) for that long. */
  write?: number;
}

export interface ThrottleOptions {
  readBurst: number;
  readPerSec: number;
  writeBurst: number;
  writePerSec: number;
}

export interface FaultOptions {
  /** Probability (0..1) that a request is answered 429 SubscriptionRequestsThrottled. */
  rate429?: number;
  rate500?: number;
  rate503?: number;
  /** Probability that the connection is destroyed without an answer. */
  rateDrop?: number;
  /** Probability that the request is held for timeoutMs and then dropped. */
  rateTimeout?: number;
  timeoutMs?: number;
  /** Every N ms a foreign writer edits a `foreign-writer-*` rule on each listed NSG. */
  foreignWriterIntervalMs?: number;
  foreignWriterNsgIds?: string[];
  /**
   * The next N NSG PUTs with If-Match to a listed NSG each lose a race: a foreign edit lands
   * just before the PUT is applied, so it is answered 412 (the interval writer's race, made certain).
   */
  foreignWriterRaces?: number;
}

export type LroMode = "sync" | "async";

export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** ARM documents as GET returns them. */
  seed?: unknown[];
  /** YAML or JSON list of ARM documents. */
  seedFile?: string;
  /** Persist state (and the CA) here; omitted = memory only and a temporary CA directory. */
  stateDir?: string;
  latencyMs?: LatencyOptions;
  /** Default on, with Azure's per-subscription numbers. */
  throttle?: boolean | ThrottleOptions;
  faults?: FaultOptions;
  /** Default true: any non-empty bearer token is accepted. */
  requireToken?: boolean;
  /** sync (default): operations succeed at once; async: they stay InProgress for lroDurationMs. */
  lroMode?: LroMode;
  lroDurationMs?: number;
  /** Page size of list operations (default 100). */
  pageSize?: number;
  /** Keep a log of which rules every NSG write changed (default off; the last 100,000 writes). */
  recordWrites?: boolean;
}

export interface EmulatorStats {
  reads: number;
  writes: number;
  byOperation: Record<string, number>;
  throttled: number;
  /** 429s of the read and of the write buckets (their sum is `throttled`). */
  throttledReads: number;
  throttledWrites: number;
  /** Injected faults by kind: 429, 500, 503, drop, timeout. */
  faults: Record<string, number>;
  /** ARM error answers by "<status> <code>" (e.g. "409 AnotherOperationInProgress"), injected or not. */
  errors: Record<string, number>;
}

/** One NSG write as it changed the stored rules (recorded only with `recordWrites`). */
export interface WriteLogEntry {
  /** Epoch ms when the change was applied. */
  at: number;
  nsgId: string;
  /** "api" for ARM requests, "foreign-writer" for the built-in foreign writer. */
  actor: "api" | "foreign-writer";
  /** Names of the rules the write added, changed or removed (etags and provisioningState ignored). */
  changed: string[];
}

export interface RunningEmulator {
  endpoint: string;
  caFile: string;
  caPem: string;
  close(): Promise<void>;
  stats(): EmulatorStats;
  resetStats(): void;
  setFaults(f: FaultOptions): void;
  setLatency(l: LatencyOptions): void;
  /** Add ARM documents (like the seed) to the running emulator. */
  addResources(docs: unknown[]): void;
  /** The stored ARM document of an NSG, for assertions; undefined when absent. */
  getNsgDocument(id: string): unknown;
  /** The write log (empty unless started with `recordWrites`). */
  writeLog(): WriteLogEntry[];
}

/** An ARM resource document as stored and returned. */
export interface ArmDoc {
  id: string;
  name: string;
  type: string;
  location?: string;
  etag?: string;
  tags?: Record<string, string>;
  properties: Record<string, unknown>;
  [key: string]: unknown;
}

export const AZURE_THROTTLE: ThrottleOptions = {
  readBurst: 250,
  readPerSec: 25,
  writeBurst: 200,
  writePerSec: 10,
};
