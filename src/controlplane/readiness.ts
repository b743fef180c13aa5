// Waiting for a daemon to serve: poll a probe until it answers, and fail fast with the daemon's
// log when the daemon exits instead.
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { isRunning, logTail } from "./processes.ts";

export type WaitSpec = { what: string; pid: number; bin: string; logFile: string; timeoutMs: number };

export async function waitUntilServing(spec: WaitSpec, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    if (!isRunning(spec.pid)) {
      throw new Error(`${spec.what} exited during start-up; last log lines:\n${logTail(spec.logFile)}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${spec.what} not ready after ${spec.timeoutMs} ms; last log lines:\n${logTail(spec.logFile)}`,
      );
    }
    await sleep(100);
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

export type ClientTls = { ca: string; cert: string; key: string };

/** GET over HTTPS with a client certificate (fetch cannot present one); resolves to status + body. */
export function httpsGet(url: string, tls: ClientTls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: readFileSync(tls.ca),
        cert: readFileSync(tls.cert),
        key: readFileSync(tls.key),
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on("error", reject);
    req.end();
  });
}
