// What the demo prints once it is ready: the commands to try as alice (team-a) and as bob (team-b),
// including the refusals, each with the message the API server gave when the demo tried it at start.
import { join } from "node:path";
import type { ControlPlane } from "../controlplane/index.ts";
import type { RunningEmulator } from "../emulator/index.ts";
import { DEMO_NAMESPACE, DEMO_RELEASE, OTHER_TEAM_NAMESPACE } from "./names.ts";

export interface Refusals {
  /** The API server's answer to alice's request in bob's name. */
  forgedRequester: string;
  /** The API server's answer to bob's team-b policy on team-a's VM. */
  outOfScopePolicy: string;
}

export interface InstructionInput {
  root: string;
  plane: ControlPlane;
  emulator: RunningEmulator;
  ports: { metrics: number; health: number };
  nsgId: string;
  operatorLog: string;
  refusals: Refusals;
  /** PATH prefix holding the kubectl-drawbridge plugin and Node.js 24. */
  pluginPath: string;
}

/** Keeps the stable part of kubectl's message (from the admission policy's name on) on one line. */
function expected(message: string): string {
  const at = message.indexOf("ValidatingAdmissionPolicy '");
  return (at < 0 ? message : message.slice(at)).replaceAll("\n", " ").trim();
}

export function instructions(i: InstructionInput): string {
  const kubectlPath = join(i.plane.binDir, "kubectl");
  const req = join(i.root, "examples", "request.yaml");
  const policy = join(i.root, "examples", "policy.yaml");
  const ns = DEMO_NAMESPACE;
  return `
drawbridge demo is running, with the chart's admission policies (release ${DEMO_RELEASE.name} in
${DEMO_RELEASE.namespace}) and the JitScope of examples/scope.yaml. In another terminal, act as alice (member of ${ns}):

  export KUBECONFIG=${i.plane.kubeconfigs.alice}
  alias kubectl=${kubectlPath}

  export PATH=${i.pluginPath}:$PATH   # kubectl drawbridge (docs/cli.md)

  # RDP for your own public address, detected; waits until the rule is open (SSH only admits 203.0.113.0/24 here)
  kubectl drawbridge request web-admin --port 3389 --my-ip --for 1h --reason "INC-4711 reboot" --wait -n ${ns}
  kubectl drawbridge list -n ${ns}                 # then: extend <name> --for 30m, revoke <name>

  kubectl get jitpolicies -n ${ns}                 # the policy the platform team applied
  kubectl create -f ${req}        # ask for SSH from 203.0.113.7 for 1h
  kubectl get accessrequests -n ${ns} -w           # Pending -> Active within seconds
  npx drawbridge demo nsgs                                 # the NSG rules in the (emulated) Azure
  kubectl describe accessrequest -n ${ns} <name>   # rules, conditions, events
  kubectl patch accessrequest -n ${ns} <name> --type=merge -p '{"spec":{"revoked":true}}'
  kubectl delete accessrequest -n ${ns} <name>     # revokes first, then goes

  # outside the policy (source not in 203.0.113.0/24): Denied with the reason, nothing written
  sed 's#203.0.113.7/32#198.51.100.7/32#' ${req} | kubectl create -f -
  # a short one: Expired after 10 seconds, its rule removed
  sed 's#PT1H#PT10S#' ${req} | kubectl create -f -

  # refused by the API server: alice cannot ask in bob's name
  sed 's#requester: alice#requester: bob#' ${req} | kubectl create -f -
  #   expected: ${expected(i.refusals.forgedRequester)}

As bob, admin of ${OTHER_TEAM_NAMESPACE} (no JitScope grants it demo-rg):

  export KUBECONFIG=${i.plane.kubeconfigs.bob}

  # refused by the API server: ${OTHER_TEAM_NAMESPACE} may not target ${ns}'s VM
  sed 's#namespace: ${ns}#namespace: ${OTHER_TEAM_NAMESPACE}#' ${policy} | kubectl apply -f -
  #   expected: ${expected(i.refusals.outOfScopePolicy)}

The NSG as ARM holds it (what \`npx drawbridge demo nsgs\` shows for the three demo NSGs):
  curl -s --cacert ${i.emulator.caFile} '${i.emulator.endpoint}/_emulator/nsg?id=${i.nsgId}'
Operator: metrics http://127.0.0.1:${i.ports.metrics}/metrics, health http://127.0.0.1:${i.ports.health}/readyz,
  full JSON log in ${i.operatorLog}

Press Ctrl-C to stop everything.
`;
}
