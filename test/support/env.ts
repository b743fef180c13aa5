// The environment variables through which Jest's global setup hands the shared control plane to
// test files (Jest workers inherit the setup process's environment).
export const ENV = {
  /** State dir of the shared plane (state.json, pki/, kubeconfigs/). Preset it to reuse a plane
   * started by `npm run -s cluster -- up`: `DRAWBRIDGE_TEST_STATE_DIR=~/.cache/drawbridge/cluster`. */
  stateDir: "DRAWBRIDGE_TEST_STATE_DIR",
  /** Dir holding admin.kubeconfig, alice.kubeconfig, bob.kubeconfig (and users minted later). */
  kubeconfigDir: "DRAWBRIDGE_TEST_KUBECONFIG_DIR",
  /** The API server URL. */
  server: "DRAWBRIDGE_TEST_SERVER",
  /** The kubectl matching the server (also first on PATH). */
  kubectl: "DRAWBRIDGE_KUBECTL",
} as const;
