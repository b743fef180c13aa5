// The machine a run was taken on: the figures mean little without it (and its load).
import { cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  cpus: number;
  model: string;
  memory_gib: number;
  node: string;
  platform: string;
  loadavg_start: number[];
  loadavg_end?: number[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? "unknown",
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg_start: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function currentLoad(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}
