// The emulator's own certificate authority and server certificate, made with openssl. They are
// kept in the state directory (reused across restarts, so clients keep trusting the same CA
// file) or in a temporary directory when there is no state directory.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";

export interface TlsMaterial {
  caFile: string;
  caPem: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

function subjectAltNames(host: string): string {
  const names = new Set(["DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
  if (host !== "" && host !== "0.0.0.0" && host !== "::")
    names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(",");
}

/** Creates (or reuses) ca.pem/ca.key and server.pem/server.key in dir for host. */
export function ensureTls(dir: string, host: string): TlsMaterial {
  mkdirSync(dir, { recursive: true });
  const san = subjectAltNames(host);
  const sanFile = join(dir, "server.san");
  if (!existsSync(join(dir, "ca.pem")) || !existsSync(join(dir, "ca.key"))) {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
    openssl(
      [
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-sha256",
        "-days",
        "3650",
        "-subj",
        "/CN=drawbridge ARM emulator CA",
        "-out",
        "ca.pem",
      ],
      dir,
    );
  }
  const sameSan = existsSync(sanFile) && readFileSync(sanFile, "utf8") === san;
  if (!sameSan || !existsSync(join(dir, "server.pem")) || !existsSync(join(dir, "server.key"))) {
    writeFileSync(
      join(dir, "server.ext"),
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
    );
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"], dir);
    openssl(["req", "-new", "-key", "server.key", "-subj", "/CN=localhost", "-out", "server.csr"], dir);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "825",
        "-sha256",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
      ],
      dir,
    );
    writeFileSync(sanFile, san);
  }
  return {
    caFile: join(dir, "ca.pem"),
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    cert: readFileSync(join(dir, "server.pem"), "utf8"),
    key: readFileSync(join(dir, "server.key"), "utf8"),
  };
}
