/** Shared helpers for benchmarks: one JSON object per line, percentiles. */
import * as os from 'node:os';
export interface Figure {
  name: string;
  params: Record<string, unknown>;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

export function emit(f: Figure): void {
  const value = Math.round(f.value * 1000) / 1000;
  process.stdout.write(`${JSON.stringify({ ...f, value })}\n`);
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Busy and total CPU time of the whole machine so far (ms, all cores), for a busy share over a run. */
export function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}
