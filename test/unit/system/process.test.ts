import { describe, expect, it } from 'vitest';
import { FakeProcessRunner, NodeProcessRunner } from '../../../src/system/process.ts';

describe('NodeProcessRunner', () => {
  it('runs a command and captures output and exit code', async () => {
    const r = await new NodeProcessRunner().run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('passes input and kills on timeout', async () => {
    const runner = new NodeProcessRunner();
    expect((await runner.run('cat', [], { input: 'hello' })).stdout).toBe('hello');
    const slow = await runner.run('sleep', ['5'], { timeoutMs: 50 });
    expect(slow.timedOut).toBe(true);
    expect(slow.signal).toBe('SIGKILL');
  });

  it('reports a missing program without throwing', async () => {
    const r = await new NodeProcessRunner().run('/nonexistent/prog', []);
    expect(r.code).toBeNull();
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('spawns a long-running child and stops it', async () => {
    const child = new NodeProcessRunner().spawn('cat', []);
    const chunks: string[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
    child.stdin.write('ping');
    await new Promise((r) => setTimeout(r, 50));
    child.kill();
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGTERM');
    expect(chunks.join('')).toBe('ping');
  });

  it('opens fd 3 as a second output pipe only when asked', async () => {
    const runner = new NodeProcessRunner();
    const child = runner.spawn('sh', ['-c', 'echo meter >&3; echo out'], { extraOutput: true });
    const read = (s: NodeJS.ReadableStream) =>
      new Promise<string>((resolve) => {
        const parts: string[] = [];
        s.on('data', (c: Buffer) => parts.push(c.toString()));
        s.on('end', () => resolve(parts.join('')));
      });
    expect(child.extraOutput).toBeDefined();
    const [extra, out, exit] = await Promise.all([
      read(child.extraOutput!),
      read(child.stdout),
      child.exited,
    ]);
    expect({ extra, out, code: exit.code }).toEqual({ extra: 'meter\n', out: 'out\n', code: 0 });

    const plain = runner.spawn('sh', ['-c', 'echo x >&3']);
    expect(plain.extraOutput).toBeUndefined();
    const stderr = read(plain.stderr);
    expect((await plain.exited).code).not.toBe(0); // no fd 3 in the child
    expect(await stderr).not.toBe('');
  });
});

describe('FakeProcessRunner', () => {
  it('answers scripted commands and records calls', async () => {
    const f = new FakeProcessRunner().on('v4l2-ctl', (args) => ({ stdout: args.join(' ') }));
    expect((await f.run('v4l2-ctl', ['-d', 'x'])).stdout).toBe('-d x');
    expect((await f.run('ffmpeg', [])).code).toBe(127);
    const c = f.spawn('ffmpeg', ['-i', 'x']);
    c.kill();
    expect(await c.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(f.calls.map((x) => x.cmd)).toEqual(['v4l2-ctl', 'ffmpeg', 'ffmpeg']);
    expect(c.extraOutput).toBeUndefined();
  });

  it('gives a child spawned with extraOutput a drivable fd 3 that ends when it exits', async () => {
    const f = new FakeProcessRunner();
    f.spawn('ffmpeg', ['pipe:3'], { extraOutput: true });
    expect(f.calls[0]).toEqual({ cmd: 'ffmpeg', args: ['pipe:3'], options: { extraOutput: true } });
    const c = f.children[0]!;
    const got: string[] = [];
    c.extraOutput!.on('data', (b: Buffer) => got.push(b.toString()));
    const ended = new Promise((r) => c.extraOutput!.on('end', r));
    c.extraOutput!.write('level');
    c.kill();
    await ended;
    expect(got).toEqual(['level']);
  });
});
