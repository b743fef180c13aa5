// A throwaway HTTPS server under its own CA, for tests of the operator's clients against a real TLS
// peer that misbehaves on purpose (never answers, resets, fails with a status).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCa, createServingCert } from "../../src/controlplane/pki.ts";

export interface TlsTestServer {
  port: number;
  /** The CA that signed the server's certificate (PEM). */
  caPem: string;
  /** Closes every connection and the server, and removes its certificates. */
  close(): Promise<void>;
}

export async function startTlsTestServer(
  prefix: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TlsTestServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ca = await createCa(dir);
  const serving = await createServingCert(dir, ca);
  const server: Server = createServer(
    { key: readFileSync(serving.key), cert: readFileSync(serving.cert) },
    handler,
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: readFileSync(ca.cert, "utf8"),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
