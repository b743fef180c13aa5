// kube-apiserver for one control plane, with the flags envtest uses: RBAC, client-certificate
// users, service-account keys, loopback only. No controller-manager runs, so the admission plugin
// that needs the token controller (ServiceAccount) is off and nothing reconciles endpoints.
import { join } from "node:path";
import type { Pki } from "./pki.ts";
import { freePort } from "./ports.ts";
import { spawnDaemon, stopDaemon } from "./processes.ts";
import { retryOnPortClash } from "./retry.ts";
import { httpsGet, waitUntilServing } from "./readiness.ts";

export type ApiServer = { pid: number; bin: string; url: string; logFile: string };

export type ApiServerOptions = {
  binDir: string;
  stateDir: string;
  etcdUrl: string;
  pki: Pki;
  admin: { cert: string; key: string };
  detached: boolean;
};

export function apiServerArgs(port: number, opts: ApiServerOptions): string[] {
  const { pki } = opts;
  return [
    `--etcd-servers=${opts.etcdUrl}`,
    `--secure-port=${port}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--cert-dir=${join(opts.stateDir, "apiserver-certs")}`,
    `--tls-cert-file=${pki.serving.cert}`,
    `--tls-private-key-file=${pki.serving.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    "--authorization-mode=RBAC",
    `--service-account-issuer=https://127.0.0.1:${port}`,
    `--service-account-key-file=${pki.serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--allow-privileged=true",
    "--enable-admission-plugins=NamespaceLifecycle,ValidatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
    "--disable-admission-plugins=ServiceAccount",
    "--runtime-config=admissionregistration.k8s.io/v1=true",
    // A loopback advertise address is not a valid Endpoints address; nothing needs the
    // `kubernetes` service's endpoints here.
    "--endpoint-reconciler-type=none",
    "--profiling=false",
  ];
}

async function startApiServerOnce(opts: ApiServerOptions): Promise<ApiServer> {
  const bin = join(opts.binDir, "kube-apiserver");
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const logFile = join(opts.stateDir, "kube-apiserver.log");
  const pid = await spawnDaemon({ bin, args: apiServerArgs(port, opts), logFile, detached: opts.detached });
  const tls = { ca: opts.pki.ca.cert, ...opts.admin };
  try {
    await waitUntilServing({ what: "kube-apiserver", pid, bin, logFile, timeoutMs: 120_000 }, async () => {
      const res = await httpsGet(`${url}/readyz`, tls);
      return res.status === 200;
    });
  } catch (error) {
    await stopDaemon(pid, bin);
    throw error;
  }
  return { pid, bin, url, logFile };
}

export function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  return retryOnPortClash(() => startApiServerOnce(opts));
}
