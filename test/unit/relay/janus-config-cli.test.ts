/**
 * `roomd relay janus-config` (docs/admin.md §Running the relay with Janus): the folder
 * systemd/roomd-janus.service starts Janus with, and the arguments it refuses.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/exit-codes.ts';
import { runRelayCli } from '../../../src/relay/cli.ts';
import { janusConfigOptions } from '../../../src/relay/janus/config-cli.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), env: {} },
  };
}

const base = ['--out', '/tmp/x', '--ice-interface', 'eth0', '--media-address', '192.0.2.10'];

describe('roomd relay janus-config', () => {
  it('writes janus.jcfg and the two plugin configs, with ICE on the interface and the API on loopback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomd-janus-cfg-'));
    dirs.push(dir);
    const out = join(dir, 'janus');
    const r = io();
    const code = await runRelayCli(
      [
        'janus-config',
        '--out',
        out,
        '--ice-interface',
        'eth0',
        '--media-address',
        '192.0.2.10',
        '--udp-ports',
        '40000-40999',
      ],
      r.io,
    );
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(r.out[0]!)).toMatchObject({
      event: 'janus-config',
      folder: out,
      api: 'ws://127.0.0.1:8188',
    });
    const main = readFileSync(join(out, 'janus.jcfg'), 'utf8');
    expect(main).toContain('ice_enforce_list = "eth0"');
    expect(main).toContain('interface = "192.0.2.10"');
    expect(main).toContain('rtp_port_range = "40000-40999"');
    expect(main).toContain(`configs_folder = "${out}"`);
    const ws = readFileSync(join(out, 'janus.transport.websockets.jcfg'), 'utf8');
    expect(ws).toContain('ws_ip = "127.0.0.1"');
    expect(ws).toContain('admin_ws = false');
    expect(statSync(join(out, 'janus.plugin.videoroom.jcfg')).mode & 0o777).toBe(0o644);
  });

  it('refuses what Janus would misread: a bad interface, an IPv6 media address, bad ports, missing options', async () => {
    expect(janusConfigOptions(base)).toMatchObject({ iceInterface: 'eth0', wsPort: 8188, debugLevel: 2 });
    for (const bad of [
      ['--out', '/tmp/x', '--ice-interface', 'eth0'],
      [...base.slice(0, 2), '--ice-interface', 'eth0"; x', ...base.slice(4)],
      [...base.slice(0, 4), '--media-address', '2001:db8::1'],
      [...base, '--ws-port', '70000'],
      [...base, '--udp-ports', '30000-20000'],
      [...base, '--ws-address', 'localhost'],
      [...base, '--debug-level', '9'],
    ])
      expect(typeof janusConfigOptions(bad)).toBe('string');
    const r = io();
    expect(await runRelayCli(['janus-config', '--out', '/tmp/x'], r.io)).toBe(ExitCode.usage);
    expect(r.err.join('\n')).toContain('usage: roomd relay janus-config');
  });

  it('serve takes --janus once per instance and only with --media-plane janus', async () => {
    const r = io();
    expect(await runRelayCli(['serve', '--janus', 'ws://a:8188'], r.io)).toBe(ExitCode.usage);
    expect(
      await runRelayCli(
        ['serve', '--media-plane', 'janus', '--janus', 'ws://a', '--janus', 'http://b'],
        r.io,
      ),
    ).toBe(ExitCode.usage);
    expect(r.err.join('\n')).toContain('once per instance');
  });
});
