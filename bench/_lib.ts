/** Shared helpers for benchmarks: one JSON object per line, percentiles. */
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
