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
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-sha256"];
  if (!existsSync(join(dir, "ca.pem")) || !existsSync(join(dir, "ca.key"))) {
    openssl(
      [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=drawbridge ARM emulator CA",
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
      dir,
    );
  }
  const sameSan = existsSync(sanFile) && readFileSync(sanFile, "utf8") === san;
  if (!sameSan || !existsSync(join(dir, "server.pem")) || !existsSync(join(dir, "server.key"))) {
    // One openssl 3 command: new key, certificate signed by the CA (-CA/-CAkey).
    openssl(
      [
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "server.key",
        "-out",
        "server.pem",
        "-subj",
        "/CN=localhost",
        "-days",
        "825",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
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
