// The local control plane (real kube-apiserver + etcd) that tests, the demo and developers run.
export {
  startControlPlane,
  attachControlPlane,
  stopState,
  stopStateDir,
  DEFAULT_CRDS_DIR,
  TEMP_STATE_PREFIX,
} from "./controlplane.ts";
export type { ControlPlane, ControlPlaneOptions } from "./controlplane.ts";
export { ensureBinaries } from "./binaries.ts";
export { kubectl, kubectlOk } from "./kubectl.ts";
export type { KubectlResult, KubectlOptions } from "./kubectl.ts";
export { mintUserKubeconfig, BUILTIN_USERS } from "./users.ts";
export { readState } from "./state.ts";
export type { ControlPlaneState, Users } from "./state.ts";
export type { Logger } from "./logger.ts";
export { reapStaleControlPlanes } from "./reap.ts";
export { killDaemonNow } from "./processes.ts";
