// AccessRequest phases as the core reads them: a terminal phase (Expired, Revoked, Denied, Failed)
// never grants again, whatever the rest of the request says.
import { TERMINAL_PHASES } from "../api/types.ts";

export function isTerminal(phase: string | undefined): boolean {
  return TERMINAL_PHASES.some((p) => p === phase);
}
