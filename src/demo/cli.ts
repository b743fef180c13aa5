// Placeholder until this command lands.
export function run(_args: string[]): Promise<number> {
  process.stderr.write("drawbridge: this command is not available yet\n");
  return Promise.resolve(2);
}
