// Figures of a chaos run: logged, and merged into bench/results/chaos.json (gitignored) under the
// case's name so docs/reliability.md can quote the latest numbers of every case.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./operator.ts";

export const RESULTS_FILE = join(ROOT, "bench", "results", "chaos.json");

export function recordFigures(caseName: string, figures: Record<string, unknown>, file = RESULTS_FILE): void {
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    // first case of the run
  }
  all[caseName] = { ...figures, recordedAt: new Date().toISOString() };
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 2) + "\n");
  process.stdout.write(`\nchaos figures ${caseName}: ${JSON.stringify(figures)}\n`);
}
