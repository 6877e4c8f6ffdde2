/**
 * Conformance with the published Nextion documents, as byte vectors (docs/hardware.md
 * §Conformance: Nextion):
 * - Nextion Instruction Set, https://nextion.tech/instruction-set/ — §6 "System Variables"
 *   (`bkcmd`, `baud`) and §7 "Format of Nextion Return Data" (the return codes table).
 * - Nextion Upload Protocol v1.1, https://nextion.itead.cc/2017/12/08/nextion-hmi-upload-protocol-v1-1/
 *   — Step 1: `connect` at each speed until `comok …` answers; "send an empty instruction before
 *   the connect instruction"; wait "(1000000/baud rate)+30ms" per attempt.
 * The quoted row or sentence is next to each vector.
 */
import { describe, expect, it } from 'vitest';
import { NextionEmulator } from '../../../../device/panel/emulator.ts';
import { PanelLineHub } from '../../../../device/panel/line.ts';
import { FakeClock } from '../../../../src/core/clock.ts';
import { encodeFrame, ins, type NextionFrame, NextionParser } from '../../../../src/devices/panel/codec.ts';
import { PanelController } from '../../../../src/devices/panel/controller.ts';
import { NextionLink } from '../../../../src/devices/panel/link.ts';
import type { RoomView } from '../../../../src/devices/panel/view.ts';
import type { MemoryByteStream } from '../../../../src/transport/serial/memory.ts';
import { MemoryStreamHub } from '../../../../src/transport/serial/memory.ts';
import { SupervisedStream } from '../../../../src/transport/serial/supervisor.ts';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );
const ascii = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const withFF = (s: string) => Uint8Array.from([...ascii(s), 0xff, 0xff, 0xff]);

const settle = async (rounds = 30) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};
async function run(clock: FakeClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle(5);
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const VIEW: RoomView = {
  phase: 'idle',
  roomName: 'Hopper',
  timeZone: 'UTC',
  notice: null,
  presets: [],
  meetings: [],
};

const noop = async () => {};
const COMMANDS = {
  join: noop,
  leave: noop,
  setMute: noop,
  setCamera: noop,
  setVolume: noop,
  ptz: noop,
  react: noop,
  chat: noop,
  share: noop,
  acknowledgeSecurityCode: noop,
};

/** A link and controller on an in-memory line; `bytes` is everything the host wrote. */
async function onMemoryLine(panel: NextionEmulator) {
  const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
  const hub = new MemoryStreamHub();
  let device: MemoryByteStream | null = null;
  let bytes: number[] = [];
  hub.plug('/dev/panel', (d) => {
    device = d;
    d.on('data', (b) => bytes.push(...b));
    panel.attach(d);
  });
  const stream = new SupervisedStream({ path: '/dev/panel', opener: hub.opener, clock });
  const link = new NextionLink({ stream, clock });
  const ctl = new PanelController({ link, clock, commands: COMMANDS, view: VIEW });
  ctl.start();
  stream.start();
  await run(clock, 50);
  return {
    clock,
    link,
    stream,
    device: () => device!,
    bytes: () => Uint8Array.from(bytes),
    clearBytes: () => {
      bytes = [];
    },
    stop: async () => {
      ctl.stop();
      link.dispose();
      await stream.stop();
    },
  };
}

describe('Nextion Instruction Set §7: return codes', () => {
  const ROWS: [string, string, NextionFrame][] = [
    [
      '06 ff ff ff',
      '0x06 Invalid File Operation',
      { kind: 'error', code: 0x06, name: 'invalid file operation' },
    ],
    ['09 ff ff ff', '0x09 Invalid CRC', { kind: 'error', code: 0x09, name: 'invalid crc' }],
    [
      '11 ff ff ff',
      '0x11 Invalid Baud rate Setting',
      { kind: 'error', code: 0x11, name: 'invalid baud rate setting' },
    ],
    [
      '12 ff ff ff',
      '0x12 Invalid Waveform ID or Channel #',
      { kind: 'error', code: 0x12, name: 'invalid waveform id or channel' },
    ],
    [
      '1d ff ff ff',
      '0x1D EEPROM Operation failed',
      { kind: 'error', code: 0x1d, name: 'eeprom operation failed' },
    ],
    ['1f ff ff ff', '0x1F IO Operation failed', { kind: 'error', code: 0x1f, name: 'io operation failed' }],
    ['24 ff ff ff', '0x24 Serial Buffer Overflow', { kind: 'overflow' }],
    ['fd ff ff ff', '0xFD Transparent Data Finished', { kind: 'transparent-done' }],
    ['fe ff ff ff', '0xFE Transparent Data Ready', { kind: 'transparent-ready' }],
  ];

  it.each(ROWS)('%s is "%s"', (bytes, _row, frame) => {
    const p = new NextionParser();
    expect(p.push(hex(bytes))).toEqual([frame]);
    expect(p.garbageBytes).toBe(0);
    expect(encodeFrame(frame)).toEqual(hex(bytes));
  });

  it('§1.16 transparent data mode: Ready (FE) comes before Finished (FD)', () => {
    // "3. Nextion sends Ready 0xFE 0xFF 0xFF 0xFF … 6. Nextion sends Finished 0xFD 0xFF 0xFF 0xFF"
    const p = new NextionParser();
    expect(p.push(hex('fe ff ff ff fd ff ff ff')).map((f) => f.kind)).toEqual([
      'transparent-ready',
      'transparent-done',
    ]);
  });

  it.each([0x06, 0x09, 0x11, 0x12, 0x1d, 0x1f])(
    'code %i answers the pending instruction with device.protocol_error, not a timeout',
    async (code) => {
      const panel = new NextionEmulator();
      const t = await onMemoryLine(panel);
      panel.silent = true;
      const result = t.link.send('baud=115200').then(
        () => 'acknowledged',
        (e: unknown) => e,
      );
      await settle();
      t.device().write(Uint8Array.of(code, 0xff, 0xff, 0xff));
      panel.silent = false;
      // Long enough for the old retries (3 × 400 ms) to end as a timeout.
      await run(t.clock, 1300, 50);
      expect(await result).toMatchObject({ code: 'device.protocol_error', context: { code } });
      expect(t.link.counters.timeouts).toBe(0);
      await t.stop();
    },
  );

  it('0x24: "Buffer will continue to receive the current instruction" — the pending one is not failed', async () => {
    const panel = new NextionEmulator();
    const t = await onMemoryLine(panel);
    panel.silent = true;
    const result = t.link.send('dim=40').then(
      () => 'acknowledged',
      (e: unknown) => e,
    );
    await settle();
    t.device().write(hex('24 ff ff ff'));
    await settle();
    t.device().write(hex('01 ff ff ff'));
    await run(t.clock, 50);
    expect(await result).toBe('acknowledged');
    expect(t.link.counters.overflows).toBe(1);
    await t.stop();
  });

  it('0x23 "Max length is 29 characters: 14 for page + "." + 14 for component": names are checked', () => {
    expect(ins.setText('tFourteenChars', 'x', 5)).toBe('tFourteenChars.txt="x"');
    expect(ins.setNumber('pFourteenChars.nFourteenChars', 1)).toBe('pFourteenChars.nFourteenChars=1');
    expect(() => ins.setText('tFifteenCharsXY', 'x', 5)).toThrow(/panel object name/);
    expect(() => ins.setNumber('pFifteenCharsXY.n0', 1)).toThrow(/panel object name/);
    expect(() => ins.setNumber('p0.nFifteenCharsXY', 1)).toThrow(/panel object name/);
  });
});

describe('Nextion Upload Protocol, step 1: finding the panel', () => {
  it('decodes the comok line of the document', () => {
    // "comok 1,101,NX4024T032_011R,52,61488,D264B8204F0E1828,16777216"
    const line = 'comok 1,101,NX4024T032_011R,52,61488,D264B8204F0E1828,16777216';
    const p = new NextionParser();
    expect(p.push(withFF(line))).toEqual([
      { kind: 'comok', info: '1,101,NX4024T032_011R,52,61488,D264B8204F0E1828,16777216' },
    ]);
    expect(
      encodeFrame({ kind: 'comok', info: '1,101,NX4024T032_011R,52,61488,D264B8204F0E1828,16777216' }),
    ).toEqual(withFF(line));
  });

  it('a panel that restarts without start-up frames (bkcmd back to 2) is found and redrawn', async () => {
    const panel = new NextionEmulator();
    const t = await onMemoryLine(panel);
    expect(panel.text('tRoom')).toBe('Hopper');
    // The same line, a panel just powered on that says nothing (Nextion Editor 1.65 and later):
    // page 0 with the project's defaults, bkcmd=2 ("Default is 2", §6).
    panel.silent = true;
    const rebooted = new NextionEmulator();
    rebooted.attach(t.device(), false);
    t.clearBytes();
    expect(rebooted.bkcmd).toBe(2);
    expect(rebooted.text('tRoom')).toBe('');
    await run(t.clock, 2000);
    expect(rebooted.bkcmd).toBe(3);
    expect(rebooted.text('tRoom')).toBe('Hopper');
    // "send an empty instruction before the connect instruction": FF FF FF, then connect FF FF FF.
    expect(contains(t.bytes(), hex('ff ff ff 63 6f 6e 6e 65 63 74 ff ff ff'))).toBe(true);
    // bkcmd=3 (§6: "3 - Always, returns 0x00 to 0x23 result of serial command") before the redraw.
    expect(contains(t.bytes(), withFF('bkcmd=3'))).toBe(true);
    await t.stop();
  });

  it('a panel at 9600 is found from a line configured for 115200 and switched with baud=115200', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
    const hub = new PanelLineHub();
    const panel = new NextionEmulator('editor-1.65');
    const seen: number[] = [];
    const connectAt: number[] = [];
    hub.plug('/dev/panel', (device, hostRate) => {
      device.on('data', (b) => {
        seen.push(...b);
        if (contains(b, ascii('connect'))) connectAt.push(clock.monotonic());
      });
      panel.attach(device, { hostRate });
    });
    const stream = new SupervisedStream({
      path: '/dev/panel',
      opener: hub.opener,
      clock,
      openOptions: { baudRate: 115200 },
    });
    const link = new NextionLink({ stream, clock });
    const ctl = new PanelController({ link, clock, commands: COMMANDS, view: VIEW });
    ctl.start();
    stream.start();
    expect(panel.rate).toBe(9600);
    await run(clock, 1000);
    expect(panel.text('tRoom')).toBe('Hopper');
    // `baud=115200` (§6 `baud`: "baud=115200"), sent at 9600, never `bauds=` (which is stored).
    expect(contains(Uint8Array.from(seen), withFF('baud=115200'))).toBe(true);
    expect(contains(Uint8Array.from(seen), ascii('bauds='))).toBe(false);
    expect(panel.rate).toBe(115200);
    expect(link.baudRate).toBe(115200);
    expect(link.counters.baudSwitches).toBe(1);
    // The unanswered attempt at 115200 waited (1000000/115200)+30 ms plus the USB margin (70 ms).
    expect(connectAt[1]! - connectAt[0]!).toBeGreaterThanOrEqual(Math.ceil(1e6 / 115200) + 30 + 70);
    // A power cycle: back at 9600 and bkcmd=2, silently; found and switched again.
    panel.restart();
    expect(panel.rate).toBe(9600);
    await run(clock, 2000);
    expect(panel.rate).toBe(115200);
    expect(panel.bkcmd).toBe(3);
    expect(panel.text('tRoom')).toBe('Hopper');
    ctl.stop();
    link.dispose();
    await stream.stop();
  });

  it('a panel that refuses baud= (0x11 "Invalid Baud rate Setting") is kept at the speed it answered', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
    const hub = new PanelLineHub();
    const panel = new NextionEmulator('editor-1.65');
    hub.plug('/dev/panel', (device, hostRate) => panel.attach(device, { hostRate }));
    // 14400 is not among the speeds §6 lists for `baud`.
    const stream = new SupervisedStream({
      path: '/dev/panel',
      opener: hub.opener,
      clock,
      openOptions: { baudRate: 14400 },
    });
    const link = new NextionLink({ stream, clock });
    const ctl = new PanelController({ link, clock, commands: COMMANDS, view: VIEW });
    ctl.start();
    stream.start();
    await run(clock, 1500);
    expect(panel.text('tRoom')).toBe('Hopper');
    expect(panel.rate).toBe(9600);
    expect(link.baudRate).toBe(9600);
    expect(link.counters.baudFallbacks).toBe(1);
    expect(link.counters.baudSwitches).toBe(0);
    ctl.stop();
    link.dispose();
    await stream.stop();
  });

  it('a baud= lost on the way is sent again: the panel still ends up at the configured speed', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
    const hub = new PanelLineHub();
    const panel = new NextionEmulator('editor-1.65');
    let lost = 0;
    hub.plug('/dev/panel', (device, hostRate) => panel.attach(device, { hostRate }));
    // The line eats the first `baud=` (noise, or its bytes overtaken by our own speed change).
    const opener: typeof hub.opener = async (path, options) => {
      const host = await hub.opener(path, options);
      const write = host.write.bind(host);
      host.write = async (bytes) => {
        if (lost === 0 && Buffer.from(bytes).toString('latin1').includes('baud=')) {
          lost++;
          return;
        }
        return write(bytes);
      };
      return host;
    };
    const stream = new SupervisedStream({
      path: '/dev/panel',
      opener,
      clock,
      openOptions: { baudRate: 115200 },
    });
    const link = new NextionLink({ stream, clock });
    const ctl = new PanelController({ link, clock, commands: COMMANDS, view: VIEW });
    ctl.start();
    stream.start();
    await run(clock, 1500);
    expect(lost).toBe(1);
    expect(panel.text('tRoom')).toBe('Hopper');
    expect(panel.rate).toBe(115200);
    expect(link.baudRate).toBe(115200);
    expect(link.counters.baudSwitches).toBe(1);
    expect(link.counters.baudFallbacks).toBe(0);
    ctl.stop();
    link.dispose();
    await stream.stop();
  });
});
