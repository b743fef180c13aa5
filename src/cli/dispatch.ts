// Command dispatch shared by the two entry points: the source CLI (src/cli/main.ts, every command)
// and the image's bundle (src/cli/image.ts, the operator's commands only). Each command module is
// loaded on demand, so one command never loads another's dependencies.

export type CommandModule = { run(args: string[]): Promise<number> };
export type Commands = Record<string, { summary: string; load: () => Promise<CommandModule> }>;

export function usage(commands: Commands): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: drawbridge <command> [flags]\n\ncommands:\n${lines.join("\n")}\n`;
}

/**
 * Runs `argv[0]` with the rest of argv. `refuse` may turn a name away with a message of its own
 * (a command that lives elsewhere); an unknown name prints the usage. Exit code 2 for both.
 */
export async function dispatch(
  commands: Commands,
  argv: string[],
  refuse: (name: string) => string | undefined = () => undefined,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  const refusal = command === undefined ? refuse(name) : undefined;
  if (refusal !== undefined) {
    process.stderr.write(`drawbridge: ${refusal}\n`);
    return 2;
  }
  if (command === undefined) {
    process.stderr.write(`drawbridge: unknown command "${name}"\n\n${usage(commands)}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}
