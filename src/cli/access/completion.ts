// Shell completion. `completion bash|zsh` prints a script that asks `kubectl-drawbridge __complete
// <words...>` for candidates; kubectl (1.26+) asks the same through the kubectl_complete-drawbridge
// executable, so `kubectl drawbridge <TAB>` completes too. Candidates are one per line, then the
// cobra directive line ":4" (no file completion).
import type { FlagSpec } from "./args.ts";
import { GLOBAL_FLAGS } from "./args.ts";

const BASH = `# kubectl drawbridge completion for bash: source <(kubectl drawbridge completion bash)
_kubectl_drawbridge() {
  local IFS=$'\\n'
  COMPREPLY=($(kubectl-drawbridge __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null | grep -v '^:'))
}
complete -F _kubectl_drawbridge kubectl-drawbridge
`;

const ZSH = `#compdef kubectl-drawbridge
# kubectl drawbridge completion for zsh: source <(kubectl drawbridge completion zsh)
_kubectl_drawbridge() {
  local -a candidates
  candidates=("\${(@f)$(kubectl-drawbridge __complete "\${(@)words[2,CURRENT]}" 2>/dev/null | grep -v '^:')}")
  compadd -a candidates
}
compdef _kubectl_drawbridge kubectl-drawbridge
`;

export function completionScript(shell: string): string | undefined {
  if (shell === "bash") return BASH;
  if (shell === "zsh") return ZSH;
  return undefined;
}

export interface CompletionSources {
  commands: Record<string, { flags: FlagSpec }>;
  /** Names for a positional argument: "policies" or "requests" in the current namespace. */
  names(kind: "policies" | "requests"): Promise<string[]>;
}

const POSITIONAL: Record<string, "policies" | "requests"> = {
  request: "policies",
  describe: "requests",
  revoke: "requests",
  extend: "requests",
  approve: "requests",
  reject: "requests",
};

/** The candidates for the last word of `words` (the words after the plugin's name). */
export async function candidates(words: string[], src: CompletionSources): Promise<string[]> {
  const current = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const [command] = before;
  const pick = (all: string[]): string[] => all.filter((c) => c.startsWith(current));
  if (command === undefined) return pick([...Object.keys(src.commands), "completion"]);
  const prev = before.at(-1) ?? "";
  if (prev === "-o" || prev === "--output") return pick(["table", "json", "yaml"]);
  if (command === "completion") return pick(["bash", "zsh"]);
  const flags = { ...GLOBAL_FLAGS, ...(src.commands[command]?.flags ?? {}) };
  if (current.startsWith("-")) return pick(Object.keys(flags).map((f) => `--${f}`));
  const prevFlag = flags[prev.replace(/^--?/, "")];
  if (prev.startsWith("-") && prevFlag?.type === "string") return [];
  const kind = POSITIONAL[command];
  if (kind === undefined || before.slice(1).some((w) => !w.startsWith("-"))) return [];
  return pick(await src.names(kind).catch(() => []));
}
