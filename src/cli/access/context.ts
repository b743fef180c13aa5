// What a command runs with: the API (connected with the kubeconfig flags), output streams, and the
// settings main read from the environment. Built in main, passed in; no globals.
import type { FlagSpec, Parsed } from "./args.ts";
import type { AccessApi } from "./client.ts";
import type { Fetcher } from "./ip-echo.ts";

export interface Context {
  api: AccessApi;
  out(text: string): void;
  err(text: string): void;
  /** IP echo URLs from DRAWBRIDGE_IP_ECHO_URLS (main reads it); --ip-echo-url comes first. */
  envEchoUrls: string[];
  fetcher: Fetcher;
  sleep(ms: number): Promise<void>;
}

export interface Command {
  summary: string;
  usage: string;
  flags: FlagSpec;
  run(p: Parsed, ctx: Context): Promise<number>;
}
