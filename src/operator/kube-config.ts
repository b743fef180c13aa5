// A KubeConfig whose API clients share one keep-alive connection pool per cluster/user, for the
// operator's writes (status, finalizer and Event calls). @kubernetes/client-node 2.0 builds a new
// undici Agent for every request in applySecurityAuthentication, so each write would otherwise open a
// new TCP + TLS connection with a client certificate and hold approvals to a few dozen a second.
// Lists and watches do not use it: on a shared pool a watch outlived a cut connection until the
// watchdog noticed (see docs/reliability.md), whereas its own connection ends it at once.
import { KubeConfig } from "@kubernetes/client-node";

type RequestContext = Parameters<KubeConfig["applySecurityAuthentication"]>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export class SharedDispatcherKubeConfig extends KubeConfig {
  // Keyed by cluster (name and server) and user name: the dispatcher carries that pair's TLS
  // material (CA, client certificate), which is fixed once the kubeconfig is loaded.
  private readonly dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    // No dispatcher means plain fetch defaults (no TLS material): nothing to share.
    if (fresh === undefined) return;
    const key = this.dispatcherKey();
    const shared = this.dispatchers.get(key);
    if (shared === undefined) {
      this.dispatchers.set(key, fresh);
      return;
    }
    // The fresh agent never opened a connection; dropping it costs nothing.
    context.setDispatcher(shared);
  }

  private dispatcherKey(): string {
    const cluster = this.getCurrentCluster();
    return JSON.stringify([cluster?.name ?? "", cluster?.server ?? "", this.getCurrentUser()?.name ?? ""]);
  }
}
