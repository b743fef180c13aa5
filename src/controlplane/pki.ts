// Certificates and keys for a local control plane, made with the machine's `openssl`: one CA signs
// the API server's serving certificate and every client certificate (a user is the certificate's
// CN, its groups the O attributes), plus the key pair that signs service-account tokens.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type CertPair = { cert: string; key: string };

export type Pki = {
  dir: string;
  ca: CertPair;
  serving: CertPair;
  serviceAccount: { privateKey: string; publicKey: string };
};

// Names and groups end up in an X.509 subject; allow what Kubernetes users and groups look like and
// nothing that openssl's `-subj` syntax would interpret.
const SUBJECT_VALUE = /^[A-Za-z0-9][A-Za-z0-9@._:-]{0,127}$/;

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0] ?? ""} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export async function createCa(dir: string): Promise<CertPair> {
  const ca = { cert: join(dir, "ca.crt"), key: join(dir, "ca.key") };
  await openssl([
    ...["req", "-x509", "-new", ...EC_KEY, "-keyout", ca.key, "-out", ca.cert, "-days", "3650"],
    ...["-subj", "/CN=drawbridge-local-ca"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
  return ca;
}

type LeafSpec = { name: string; subject: string; extensions: string[] };

async function signLeaf(dir: string, ca: CertPair, spec: LeafSpec): Promise<CertPair> {
  const pair = { cert: join(dir, `${spec.name}.crt`), key: join(dir, `${spec.name}.key`) };
  const csr = join(dir, `${spec.name}.csr`);
  const ext = join(dir, `${spec.name}.ext`);
  await writeFile(ext, spec.extensions.join("\n") + "\n");
  await openssl(["req", "-new", ...EC_KEY, "-keyout", pair.key, "-subj", spec.subject, "-out", csr]);
  await openssl([
    ...["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-days", "365"],
    ...["-set_serial", `0x${randomBytes(16).toString("hex")}`, "-extfile", ext, "-out", pair.cert],
  ]);
  await Promise.all([rm(csr), rm(ext)]);
  return pair;
}

export function createServingCert(dir: string, ca: CertPair): Promise<CertPair> {
  return signLeaf(dir, ca, {
    name: "apiserver",
    subject: "/CN=kube-apiserver",
    extensions: [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
  });
}

/** A client certificate for user `name` in `groups`, stored as `<dir>/user-<name>-<random>.{crt,key}`. */
export function createClientCert(
  dir: string,
  ca: CertPair,
  name: string,
  groups: string[],
): Promise<CertPair> {
  for (const value of [name, ...groups]) {
    if (!SUBJECT_VALUE.test(value)) {
      throw new Error(
        `user and group names must match ${SUBJECT_VALUE.source} (letters, digits, @._:-; at most 128 characters), got "${value}"`,
      );
    }
  }
  return signLeaf(dir, ca, {
    // A random suffix: several processes may mint certificates in the same directory at once.
    name: `user-${name}-${randomBytes(4).toString("hex")}`,
    subject: `/CN=${name}${groups.map((g) => `/O=${g}`).join("")}`,
    extensions: [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=clientAuth",
    ],
  });
}

export async function createServiceAccountKeys(dir: string): Promise<Pki["serviceAccount"]> {
  const keys = { privateKey: join(dir, "sa.key"), publicKey: join(dir, "sa.pub") };
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keys.privateKey]);
  await openssl(["ec", "-in", keys.privateKey, "-pubout", "-out", keys.publicKey]);
  return keys;
}

/** Every key and certificate a control plane needs, under `dir` (created, mode 0700). */
export async function createPki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa(dir);
  const [serving, serviceAccount] = await Promise.all([
    createServingCert(dir, ca),
    createServiceAccountKeys(dir),
  ]);
  return { dir, ca, serving, serviceAccount };
}
