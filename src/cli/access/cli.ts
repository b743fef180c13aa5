// `drawbridge access <command>`: the kubectl plugin's commands under the main executable.
import { runAccess } from "./main.ts";

export async function run(args: string[]): Promise<number> {
  return runAccess(
    args,
    {
      ipEchoUrls: process.env.DRAWBRIDGE_IP_ECHO_URLS,
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    },
    "drawbridge access",
  );
}
