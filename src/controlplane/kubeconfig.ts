// Self-contained kubeconfig files (certificates embedded), so a kubeconfig keeps working when it
// is copied elsewhere and needs no other file from the state directory.
import { readFile, writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import type { CertPair } from "./pki.ts";

export type KubeconfigInput = { server: string; caCert: string; user: string; client: CertPair };

async function base64(path: string): Promise<string> {
  return (await readFile(path)).toString("base64");
}

export async function renderKubeconfig(input: KubeconfigInput): Promise<string> {
  const [ca, cert, key] = await Promise.all([
    base64(input.caCert),
    base64(input.client.cert),
    base64(input.client.key),
  ]);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "drawbridge-local", cluster: { server: input.server, "certificate-authority-data": ca } },
    ],
    users: [{ name: input.user, user: { "client-certificate-data": cert, "client-key-data": key } }],
    contexts: [{ name: input.user, context: { cluster: "drawbridge-local", user: input.user } }],
    "current-context": input.user,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<string> {
  await writeFile(path, await renderKubeconfig(input), { mode: 0o600 });
  return path;
}
