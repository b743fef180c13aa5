// Users of a local control plane are client certificates signed by its CA: minting one needs only
// the state directory, so any process (a Jest worker, say) can add users to a running plane.
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { writeKubeconfig } from "./kubeconfig.ts";
import { createClientCert } from "./pki.ts";
import type { Users } from "./state.ts";

export type UserDirs = { server: string; pkiDir: string; kubeconfigDir: string };

export const BUILTIN_USERS: Record<keyof Users, string[]> = {
  admin: ["system:masters"],
  alice: ["team-a"],
  bob: ["team-b"],
};

/**
 * Writes `<kubeconfigDir>/<name>.kubeconfig` for user `name` in `groups` and resolves to its path.
 * One name is one identity: minting a name again replaces its kubeconfig.
 */
export async function mintUserKubeconfig(dirs: UserDirs, name: string, groups: string[]): Promise<string> {
  const ca = { cert: join(dirs.pkiDir, "ca.crt"), key: join(dirs.pkiDir, "ca.key") };
  const client = await createClientCert(dirs.pkiDir, ca, name, groups);
  const path = join(dirs.kubeconfigDir, `${name}.kubeconfig`);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeKubeconfig(tmp, { server: dirs.server, caCert: ca.cert, user: name, client });
  await rename(tmp, path);
  return path;
}

export async function mintBuiltinUsers(dirs: UserDirs): Promise<Users> {
  const [admin, alice, bob] = await Promise.all([
    mintUserKubeconfig(dirs, "admin", BUILTIN_USERS.admin),
    mintUserKubeconfig(dirs, "alice", BUILTIN_USERS.alice),
    mintUserKubeconfig(dirs, "bob", BUILTIN_USERS.bob),
  ]);
  return { admin, alice, bob };
}
