// `kubectl drawbridge <command>` (and `drawbridge access <command>`): the engineer's side of
// drawbridge. Environment is read by the caller (bin/ or src/cli/main.ts) and passed in.
import { parse, UsageError } from "./args.ts";
import { apiErrorText, connect } from "./client.ts";
import type { ConnectOptions } from "./client.ts";
import { candidates, completionScript } from "./completion.ts";
import type { Command, Context } from "./context.ts";
import { EXIT } from "./exit-codes.ts";
import { echoUrlsFromEnv } from "./ip-echo.ts";
import { approve, reject } from "./commands/approve.ts";
import { describe } from "./commands/describe.ts";
import { extend } from "./commands/extend.ts";
import { list } from "./commands/list.ts";
import { pending } from "./commands/pending.ts";
import { policies } from "./commands/policies.ts";
import { request } from "./commands/request.ts";
import { revoke } from "./commands/revoke.ts";

export const COMMANDS: Record<string, Command> = {
  request,
  policies,
  list,
  describe,
  revoke,
  extend,
  pending,
  approve,
  reject,
};

export interface AccessEnv {
  /** DRAWBRIDGE_IP_ECHO_URLS */
  ipEchoUrls: string | undefined;
  out(text: string): void;
  err(text: string): void;
}

function usage(prog: string): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return (
    `usage: ${prog} <command> [flags]\n\ncommands:\n${lines.join("\n")}\n  completion bash|zsh\n\n` +
    "flags of every command: --kubeconfig <file> --context <name> -n/--namespace <ns> -o/--output table|json|yaml\n" +
    "exit codes: 0 ok, 1 error, 2 usage, 3 denied, 4 timed out, 5 no public IP, 6 closed without opening (docs/cli.md)\n"
  );
}

export async function runAccess(
  argv: string[],
  env: AccessEnv,
  prog = "kubectl drawbridge",
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    env.out(usage(prog));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "completion") {
    const script = completionScript(rest[0] ?? "");
    if (script === undefined) {
      env.err("usage: completion bash|zsh\n");
      return EXIT.usage;
    }
    env.out(script);
    return EXIT.ok;
  }
  if (name === "__complete") return complete(rest, env);
  const command = COMMANDS[name];
  if (command === undefined) {
    env.err(`${prog}: unknown command "${name}"\n\n${usage(prog)}`);
    return EXIT.usage;
  }
  try {
    const p = parse(rest, command.flags);
    if (p.booleans["help"]) {
      env.out(`usage: ${prog} ${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(p, context(connectOptions(p.strings), env));
  } catch (err) {
    if (err instanceof UsageError) {
      env.err(`${prog} ${name}: ${err.message}\nusage: ${prog} ${command.usage}\n`);
      return EXIT.usage;
    }
    env.err(`${prog} ${name}: ${apiErrorText(err)}\n`);
    return EXIT.error;
  }
}

function connectOptions(s: Record<string, string | undefined>): ConnectOptions {
  return { kubeconfig: s["kubeconfig"], context: s["context"], namespace: s["namespace"] };
}

function context(o: ConnectOptions, env: AccessEnv): Context {
  return {
    api: connect(o),
    out: (t) => {
      env.out(t);
    },
    err: (t) => {
      env.err(t);
    },
    envEchoUrls: echoUrlsFromEnv(env.ipEchoUrls),
    fetcher: (url, init) => fetch(url, { signal: init.signal, headers: { accept: "text/plain" } }),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/** `__complete <words...>`: candidates for shells and kubectl, then the cobra directive. */
async function complete(words: string[], env: AccessEnv): Promise<number> {
  const flag = (long: string, short?: string): string | undefined => {
    const i = words.findIndex((w) => w === `--${long}` || (short !== undefined && w === `-${short}`));
    return i >= 0 ? words[i + 1] : words.find((w) => w.startsWith(`--${long}=`))?.slice(long.length + 3);
  };
  const names = async (kind: "policies" | "requests"): Promise<string[]> => {
    const api = connect({
      kubeconfig: flag("kubeconfig"),
      context: flag("context"),
      namespace: flag("namespace", "n"),
    });
    const objs = kind === "policies" ? await api.listPolicies() : await api.listRequests();
    return objs.map((o) => o.metadata.name ?? "");
  };
  const found = await candidates(words, { commands: COMMANDS, names });
  env.out(found.map((c) => `${c}\n`).join("") + ":4\n");
  return EXIT.ok;
}
