// The ARM emulator: an HTTPS server speaking the Microsoft.Network / Microsoft.Compute subset
// drawbridge uses, with ARM's behaviour (see docs/emulator.md).
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminHandler } from "./admin.ts";
import { NsgLocks, StatsCounter, type Core } from "./core.ts";
import { ForeignWriter } from "./foreign-writer.ts";
import { Operations } from "./lro.ts";
import { Persister } from "./persist.ts";
import { loadDocuments, readSeedFile } from "./seed.ts";
import { handleRequest } from "./server.ts";
import { Store } from "./store.ts";
import { Throttle } from "./throttle.ts";
import { ensureTls } from "./tls.ts";
import {
  AZURE_THROTTLE,
  type EmulatorOptions,
  type FaultOptions,
  type RunningEmulator,
  type ThrottleOptions,
} from "./types.ts";

export type * from "./types.ts";

function throttleLimits(t: EmulatorOptions["throttle"]): ThrottleOptions | undefined {
  if (t === false) return undefined;
  if (t === undefined || t === true) return AZURE_THROTTLE;
  return t;
}

/** Loads persisted state when present; otherwise seeds (seed docs and/or seed file). */
function initialState(store: Store, opts: EmulatorOptions): Persister | undefined {
  const persister = opts.stateDir === undefined ? undefined : new Persister(opts.stateDir, store);
  const restored = persister?.load() ?? false;
  if (!restored) {
    if (opts.seedFile !== undefined) loadDocuments(store, readSeedFile(opts.seedFile));
    if (opts.seed !== undefined) loadDocuments(store, opts.seed);
  }
  persister?.start();
  return persister;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? "127.0.0.1";
  const tempDir =
    opts.stateDir === undefined ? mkdtempSync(join(tmpdir(), "drawbridge-emulator-")) : undefined;
  const tls = ensureTls(opts.stateDir ?? tempDir ?? "", host);
  const store = new Store();
  const persister = initialState(store, opts);
  const core: Core = {
    store,
    ops: new Operations(),
    throttle: new Throttle(throttleLimits(opts.throttle)),
    locks: new NsgLocks(),
    stats: new StatsCounter(),
    endpoint: "",
    latency: { ...opts.latencyMs },
    faults: {},
    lroMode: opts.lroMode ?? "sync",
    lroDurationMs: opts.lroDurationMs ?? 200,
    pageSize: opts.pageSize ?? 100,
    requireToken: opts.requireToken ?? true,
    pending: new Map(),
    ...(opts.recordWrites === true ? { writeLog: [] } : {}),
  };
  const foreignWriter = new ForeignWriter(core);
  const setFaults = (f: FaultOptions): void => {
    core.faults = { ...f };
    foreignWriter.configure(f.foreignWriterIntervalMs, f.foreignWriterNsgIds);
  };
  setFaults(opts.faults ?? {});
  const admin = adminHandler({ core, foreignWriter, setFaults });
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void handleRequest(core, admin, req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  core.endpoint = `https://${hostPart}:${port}`;

  return {
    endpoint: core.endpoint,
    caFile: tls.caFile,
    caPem: tls.caPem,
    close: async () => {
      foreignWriter.stop();
      for (const [timer, done] of core.pending) {
        clearTimeout(timer);
        done();
      }
      core.pending.clear();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      persister?.close();
      if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    },
    stats: () => core.stats.snapshot(),
    resetStats: () => {
      core.stats.reset();
    },
    setFaults,
    setLatency: (l) => {
      core.latency = { ...l };
    },
    addResources: (docs) => {
      loadDocuments(store, docs);
    },
    getNsgDocument: (id) => store.getNsg(id),
    writeLog: () => [...(core.writeLog ?? [])],
  };
}
