// Writes held, failed or answered otherwise by the test, for the reconciler tests on the in-process
// stack: request writes (its fake API server's gate and lostReply) and NSG writes (its Azure's gate).
import type { Stack } from "./stack.ts";

/** A write held until the test lets it go (or fails it). */
export class Held {
  readonly promise: Promise<void>;
  release!: () => void;
  refuse!: (err: Error) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.release = resolve;
      this.refuse = reject;
    });
  }
}

/** A gate or lostReply answering the first status write with `answer()`; every later write passes. */
export function firstStatusWrite<T>(answer: () => T): (op: string) => T | undefined {
  let first = true;
  return (op) => {
    if (op !== "patchStatus" || !first) return undefined;
    first = false;
    return answer();
  };
}

/** Holds every NSG write until the returned function ends the hold and lets the held writes go. */
export function holdNsgWrites(s: Stack): () => void {
  const held = new Held();
  s.azure.gate = () => held.promise;
  return () => {
    s.azure.gate = undefined;
    held.release();
  };
}
