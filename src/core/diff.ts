// Plans one NSG: desired managed rules, and the writes that bring the observed NSG there.
import type { NsgPlan, PlanInput } from "./types.ts";

export function planNsg(_input: PlanInput): NsgPlan {
  throw new Error("planNsg: not implemented yet");
}
