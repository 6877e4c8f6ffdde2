import { describe, expect, it } from 'vitest';
import { hasCode, RoomdError } from '../../../src/core/errors.ts';
import { Lifecycle, type Module } from '../../../src/core/lifecycle.ts';
import { memoryLogger, silentLogger } from '../../../src/core/logger.ts';

function recorder() {
  const calls: string[] = [];
  const mod = (
    name: string,
    opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean } = {},
  ): Module => ({
    name,
    start() {
      calls.push(`start ${name}`);
      if (opts.failStart) throw new Error(`${name} start boom`);
    },
    async stop() {
      calls.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} stop boom`);
      if (opts.hangStop) await new Promise(() => {});
    },
  });
  return { calls, mod };
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse order', async () => {
    const { calls, mod } = recorder();
    const lc = new Lifecycle(silentLogger()).add(mod('a')).add(mod('b')).add(mod('c'));
    await lc.start();
    const report = await lc.stop();
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(report).toEqual({ stopped: ['c', 'b', 'a'], failed: [] });
  });

  it('keeps stopping the rest when one module fails to stop, and reports it', async () => {
    const { calls, mod } = recorder();
    const { logger, lines } = memoryLogger();
    const lc = new Lifecycle(logger)
      .add(mod('a'))
      .add(mod('b', { failStop: true }))
      .add(mod('c'));
    await lc.start();
    const report = await lc.stop();
    expect(calls.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(report.stopped).toEqual(['c', 'a']);
    expect(report.failed.map((f) => f.name)).toEqual(['b']);
    expect(lines.some((l) => l['module'] === 'b' && l['msg'] === 'module failed to stop')).toBe(true);
  });

  it('gives up on a stop that hangs after the timeout and goes on', async () => {
    const { calls, mod } = recorder();
    const lc = new Lifecycle(silentLogger(), { stopTimeoutMs: 20 })
      .add(mod('a'))
      .add(mod('b', { hangStop: true }));
    await lc.start();
    const report = await lc.stop();
    expect(calls.slice(2)).toEqual(['stop b', 'stop a']);
    expect(report.failed).toHaveLength(1);
    expect(hasCode(report.failed[0]!.error, 'core.timeout')).toBe(true);
  });

  it('unwinds started modules when a later one fails to start', async () => {
    const { calls, mod } = recorder();
    const lc = new Lifecycle(silentLogger())
      .add(mod('a'))
      .add(mod('b'))
      .add(mod('c', { failStart: true }))
      .add(mod('d'));
    const err = await lc.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoomdError);
    expect((err as RoomdError).code).toBe('core.module_start_failed');
    expect((err as RoomdError).context).toEqual({ module: 'c' });
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
  });

  it('shares one stop between concurrent callers', async () => {
    const { calls, mod } = recorder();
    const lc = new Lifecycle(silentLogger()).add(mod('a'));
    await lc.start();
    const [r1, r2] = await Promise.all([lc.stop(), lc.stop()]);
    expect(r1).toBe(r2);
    expect(calls.filter((c) => c === 'stop a')).toHaveLength(1);
  });
});
