// The write pipeline for everything that changes an NSG (NSG PUT/PATCH/DELETE, rule PUT/DELETE,
// the foreign writer): one write per NSG at a time, the configured write latency while holding
// the NSG, validation against the current state, then the long-running-operation answer.
import { sleep, type Core } from "./core.ts";
import { ArmError } from "./errors.ts";
import type { Reply } from "./http.ts";
import { idKey } from "./ids.ts";
import { Operations } from "./lro.ts";
import { recordWrite, ruleFingerprints } from "./write-log.ts";

export interface WriteOutcome {
  status: number;
  body?: unknown;
  /** Delete-style answers carry Location as well as Azure-AsyncOperation. */
  withLocation?: boolean;
  /** In async mode, runs when the operation completes (e.g. provisioningState -> Succeeded). */
  finalize?: () => void;
}

export interface WriteRequest {
  nsgId: string;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  /** Who writes, for the write log; default "api". */
  actor?: "api" | "foreign-writer";
}

export function anotherOperation(holderUrl: string): ArmError {
  return new ArmError(
    409,
    "AnotherOperationInProgress",
    `Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: ${holderUrl}.`,
  );
}

/**
 * Runs apply() holding the NSG. apply validates against the current state and mutates only when
 * everything is valid; it throws ArmError otherwise, and the store stays untouched.
 */
export async function runNsgWrite(core: Core, req: WriteRequest, apply: () => WriteOutcome): Promise<Reply> {
  const key = idKey(req.nsgId);
  const holder = core.locks.holder(key);
  if (holder !== undefined) throw anotherOperation(holder);
  const op = core.ops.create(req.subscriptionId, req.location || "westeurope");
  const urls = Operations.urls(core.endpoint, op, req.apiVersion);
  core.locks.acquire(key, urls.asyncOperation);
  let outcome: WriteOutcome;
  try {
    await sleep(core.latency.write);
    const before = ruleFingerprints(core, req.nsgId);
    outcome = apply();
    recordWrite(core, req.nsgId, req.actor ?? "api", before);
  } catch (e) {
    core.locks.release(key);
    core.ops.complete(op.id, "Failed");
    throw e;
  }
  const done = (): void => {
    outcome.finalize?.();
    core.ops.complete(op.id);
    core.locks.release(key);
  };
  if (core.lroMode === "async" && core.lroDurationMs > 0) {
    const timer = setTimeout(() => {
      core.pending.delete(timer);
      done();
    }, core.lroDurationMs);
    core.pending.set(timer, done);
  } else {
    done();
  }
  const headers: Record<string, string> = { "Azure-AsyncOperation": urls.asyncOperation };
  if (outcome.withLocation === true) headers["Location"] = urls.location;
  if (core.lroMode === "async") headers["Retry-After"] = "1";
  return { status: outcome.status, headers, body: outcome.body };
}

/** If-Match / If-None-Match against the current etag (undefined when the target is absent). */
export function checkPreconditions(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
  etag: string | undefined,
): void {
  const fail = (): ArmError =>
    new ArmError(
      412,
      "PreconditionFailed",
      "The condition specified using HTTP conditional header(s) is not met.",
    );
  if (ifMatch !== undefined && ifMatch !== "") {
    if (etag === undefined) throw fail();
    if (ifMatch !== "*" && !ifMatch.split(",").some((t) => t.trim() === etag)) throw fail();
  }
  if (ifNoneMatch !== undefined && ifNoneMatch !== "" && etag !== undefined) {
    if (ifNoneMatch === "*" || ifNoneMatch.split(",").some((t) => t.trim() === etag)) throw fail();
  }
}
