/**
 * `roomd demo` from the daemon's command line: the daemon does not import the demo (demo/ lies
 * outside src/); src/app/demo-command.ts loads demo/command.ts by path when the command runs.
 */
import { describe, expect, it } from 'vitest';
import { demo as realDemo } from '../../../demo/command.ts';
import { ExitCode } from '../../../src/core/exit-codes.ts';
import { main } from '../../../src/app/main.ts';

async function roomd(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out, err };
}

describe('roomd demo, loaded from demo/', () => {
  it('is listed with the other commands without loading it', async () => {
    const r = await roomd('--help');
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out.join('\n')).toMatch(/^ {2}demo +Run the appliance in demo mode on this machine\.$/m);
  });

  it('answers --help with the demo module’s own usage', async () => {
    const r = await roomd('demo', '--help');
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toEqual([realDemo.usage]);
    expect(realDemo.usage).toContain('Demo Org');
  });

  it('refuses an unknown option with the demo usage and the usage exit code', async () => {
    const r = await roomd('demo', '--no-such-option');
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err.join('\n')).toContain(realDemo.usage);
  });
});
