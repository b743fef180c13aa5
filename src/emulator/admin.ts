// The admin surface under /_emulator/ (no token): lets a separate process (benchmarks, fault
// tests) read counters, change faults and latency, and add resources.
import type { Core } from "./core.ts";
import { ArmError } from "./errors.ts";
import { validateFaults } from "./faults.ts";
import type { ForeignWriter } from "./foreign-writer.ts";
import type { Reply } from "./http.ts";
import { loadDocuments } from "./seed.ts";
import type { FaultOptions, LatencyOptions } from "./types.ts";

export interface AdminDeps {
  core: Core;
  foreignWriter: ForeignWriter;
  setFaults(f: FaultOptions): void;
}

function parse(body: string): unknown {
  try {
    return body === "" ? {} : JSON.parse(body);
  } catch (e) {
    throw new ArmError(400, "InvalidRequestFormat", `Cannot parse the request: ${(e as Error).message}`);
  }
}

function bad(e: unknown): ArmError {
  return e instanceof ArmError ? e : new ArmError(400, "InvalidRequest", (e as Error).message);
}

export function validateLatency(raw: unknown): LatencyOptions {
  if (typeof raw !== "object" || raw === null) throw new Error("latency: expected an object");
  const l = raw as Record<string, unknown>;
  for (const k of ["read", "write"]) {
    const v = l[k];
    if (v !== undefined && (typeof v !== "number" || v < 0))
      throw new Error(`latency.${k}: expected a number >= 0`);
  }
  return l;
}

type Route = (url: URL, body: string) => Reply;

function addResources(core: Core, body: string): Reply {
  const parsed = parse(body);
  const list = Array.isArray(parsed) ? parsed : (parsed as { resources?: unknown }).resources;
  if (!Array.isArray(list))
    throw new Error("resources: expected a JSON list of ARM documents (or { resources: [...] })");
  return { status: 200, body: { added: loadDocuments(core.store, list) } };
}

function routes(deps: AdminDeps): Record<string, Route> {
  const { core } = deps;
  return {
    "GET /_emulator/health": () => ({ status: 200, body: { status: "ok", nsgs: core.store.nsgCount() } }),
    "GET /_emulator/stats": () => ({
      status: 200,
      body: { ...core.stats.snapshot(), foreignWriterEdits: deps.foreignWriter.edits },
    }),
    "GET /_emulator/writes": () => ({ status: 200, body: core.writeLog ?? [] }),
    "POST /_emulator/stats/reset": () => {
      core.stats.reset();
      return { status: 204 };
    },
    "GET /_emulator/faults": () => ({ status: 200, body: core.faults }),
    "POST /_emulator/faults": (_url, body) => {
      deps.setFaults(validateFaults(parse(body)));
      return { status: 200, body: core.faults };
    },
    "GET /_emulator/latency": () => ({ status: 200, body: core.latency }),
    "POST /_emulator/latency": (_url, body) => {
      core.latency = validateLatency(parse(body));
      return { status: 200, body: core.latency };
    },
    "POST /_emulator/resources": (_url, body) => addResources(core, body),
    "GET /_emulator/nsg": (url) => {
      const doc = core.store.getNsg(url.searchParams.get("id") ?? "");
      return doc === undefined
        ? { status: 404, body: { error: { code: "NotFound", message: "no such NSG" } } }
        : { status: 200, body: doc };
    },
  };
}

export function adminHandler(deps: AdminDeps): (method: string, url: URL, body: string) => Reply {
  const table = routes(deps);
  return (method, url, body) => {
    const key = `${method} ${url.pathname.replace(/\/+$/, "")}`;
    const route = table[key];
    if (route === undefined)
      return { status: 404, body: { error: { code: "NotFound", message: `unknown admin endpoint ${key}` } } };
    try {
      return route(url, body);
    } catch (e) {
      const err = bad(e);
      return { status: err.status, body: err.body() };
    }
  };
}
