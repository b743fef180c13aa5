// How big a chaos run is. The bounded form runs inside `npm test` on a shared 2-core machine; the
// full form (`npm run test:chaos`, CHAOS_FULL=1) runs the workload sizes docs/reliability.md names.
export interface Budget {
  full: boolean;
  /** Requests in the ARM-fault workload (full >= 200). */
  armRequests: number;
  /** NSGs the chaos policy targets (>= 10 in both forms). */
  nsgs: number;
  /** SIGKILLs of the operator during the process-fault workload (>= 10). */
  kills: number;
  processRequests: number;
  /** Generated inputs per fast-check property. */
  inputRuns: number;
}

export function budget(env: NodeJS.ProcessEnv = process.env): Budget {
  const full = env.CHAOS_FULL === "1";
  return full
    ? { full, armRequests: 240, nsgs: 12, kills: 15, processRequests: 120, inputRuns: 300 }
    : { full, armRequests: 60, nsgs: 10, kills: 10, processRequests: 40, inputRuns: 60 };
}
