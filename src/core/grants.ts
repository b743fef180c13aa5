// Which grants must be in the NSGs right now.
import type { AccessRequest, JitPolicy } from "../api/types.ts";
import type { ActiveGrants } from "./types.ts";

export function activeGrants(_policies: JitPolicy[], _requests: AccessRequest[], _now: Date): ActiveGrants {
  throw new Error("activeGrants: not implemented yet");
}
