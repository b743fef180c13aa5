// Structured logs: pino JSON lines on stdout (what log collectors in a cluster expect), with ISO
// timestamps and a "level" label instead of pino's numeric level. Reconcilers derive child loggers
// that carry the request / policy / NSG they work on, so one grep follows one object end to end.
import { pino } from "pino";
import type { Logger, DestinationStream } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger } from "pino";

/**
 * Lines held while stdout is not taking them. Beyond this the newest are dropped rather than the
 * heap growing without bound: the operator must keep revoking grants whatever its log reader does.
 */
export const LOG_BUFFER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A root logger at `level`. `destination` defaults to stdout (fd 1), written asynchronously: a
 * synchronous write blocks the event loop whenever the pipe to the log reader is full (1.3 s of a
 * 1,000-request burst went to that), and expiries wait behind it. What is buffered is flushed at
 * exit, so nothing is lost when the process exits right after logging. Tests pass a stream.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: "drawbridge" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_MAX_BYTES }),
  );
}

/** Fields reconcilers attach to child loggers; keep these names stable, dashboards query them. */
export interface ObjectFields {
  /** "namespace/name" of an AccessRequest. */
  request?: string;
  /** "namespace/name" of a JitPolicy. */
  policy?: string;
  /** ARM id of a network security group. */
  nsg?: string;
  controller?: string;
  reconcileId?: string;
}

/** A child logger for one object: `forObject(log, { nsg })`. */
export function forObject(logger: Logger, fields: ObjectFields): Logger {
  return logger.child(fields);
}
