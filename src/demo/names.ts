// The demo's names, in one place so the stack, the printed commands and the tests agree.

/** alice's team: the JitScope team-a and examples/policy.yaml live here. */
export const DEMO_NAMESPACE = "team-a";

/** bob's team: no JitScope grants it demo-rg, so its policies there are refused. */
export const OTHER_TEAM_NAMESPACE = "team-b";

/**
 * The release the chart is rendered as. Its fullname is "drawbridge" (admission policies
 * drawbridge-*, scope index drawbridge-scope-index) and its namespace is the operator's own, where
 * the operator holds its Lease and publishes the scope index.
 */
export const DEMO_RELEASE = { name: "drawbridge", namespace: "drawbridge-system" } as const;

/** The Azure resource group the seed (examples/seed.yaml) holds and the JitScope grants to team-a. */
export const DEMO_RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/demo-rg";

/** team-a's VM (examples/policy.yaml targets it). */
export const DEMO_VM = `${DEMO_RG}/providers/Microsoft.Compute/virtualMachines/web-1`;
