// Reads a webhook URL from a Secret key with the operator's KubeConfig.
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";

export function secretKeyReader(
  kc: KubeConfig,
): (namespace: string, name: string, key: string) => Promise<string | undefined> {
  const core = kc.makeApiClient(CoreV1Api);
  return async (namespace, name, key) => {
    try {
      const s = await core.readNamespacedSecret({ name, namespace });
      const b64 = s.data?.[key];
      return b64 === undefined ? s.stringData?.[key] : Buffer.from(b64, "base64").toString("utf8");
    } catch {
      // Missing or forbidden: the sink retries and finally drops, naming the Secret in its log.
      return undefined;
    }
  };
}
