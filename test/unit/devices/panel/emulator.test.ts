/**
 * The panel emulator's profiles against the published Nextion documents (docs/hardware.md
 * §Emulators, §Conformance: Nextion): Nextion Instruction Set (https://nextion.tech/instruction-set/)
 * §6 System Variables and §7 Format of Nextion Return Data; Nextion Upload Protocol v1.1 step 1.
 */
import { describe, expect, it } from 'vitest';
import { NextionEmulator } from '../../../../device/panel/emulator.ts';
import type { PanelProfileName } from '../../../../device/panel/profiles.ts';
import { garble } from '../../../../device/panel/wire.ts';
import { createMemoryPair } from '../../../../src/transport/serial/memory.ts';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );
const ins = (...texts: string[]) =>
  Uint8Array.from(texts.flatMap((t) => [...[...t].map((c) => c.charCodeAt(0)), 0xff, 0xff, 0xff]));
const settle = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

/** A panel on a memory line whose host end runs at `hostRate`; `got()` is what the host received. */
function wire(profile: PanelProfileName, hostRate?: { value: number }) {
  const [host, device] = createMemoryPair('memory:panel');
  const received: number[] = [];
  host.on('data', (b) => received.push(...b));
  const panel = new NextionEmulator(profile);
  panel.attach(device, hostRate === undefined ? {} : { hostRate: () => hostRate.value });
  return {
    panel,
    send: async (bytes: Uint8Array) => {
      await host.write(bytes);
      await settle();
    },
    got: () => Uint8Array.from(received),
    clear: () => {
      received.length = 0;
    },
  };
}

describe('panel emulator profiles', () => {
  it('classic announces power-on with 00 00 00 FF FF FF and 88 FF FF FF; editor-1.65 says nothing', async () => {
    const classic = wire('classic');
    const silent = wire('editor-1.65');
    await settle();
    expect(classic.got()).toEqual(hex('00 00 00 ff ff ff 88 ff ff ff'));
    expect(silent.got()).toEqual(new Uint8Array());
    for (const w of [classic, silent]) {
      await w.send(ins('bkcmd=3', 'page 3'));
      expect(w.panel.bkcmd).toBe(3);
      w.panel.restart();
      // §6 bkcmd: "Default is 2"; the speed after power-on is the stored bauds.
      expect(w.panel.bkcmd).toBe(2);
      expect(w.panel.page).toBe(0);
      expect(w.panel.rate).toBe(w.panel.profile.bauds);
    }
    expect(classic.panel.profile.bauds).toBe(115200);
    expect(silent.panel.profile.bauds).toBe(9600);
  });

  it('answers connect with a plain comok line whatever bkcmd is (Upload Protocol, step 1)', async () => {
    const w = wire('editor-1.65');
    await w.send(ins('bkcmd=0', 'connect'));
    const text = String.fromCharCode(...w.got());
    expect(text.startsWith('comok 1,')).toBe(true);
    expect([...w.got().slice(-3)]).toEqual([0xff, 0xff, 0xff]);
  });

  it('acknowledges sys0=sys0 at bkcmd=3 only, and rejects what §7 says it rejects', async () => {
    const w = wire('editor-1.65');
    await w.send(ins('sys0=sys0'));
    expect(w.got()).toEqual(new Uint8Array());
    await w.send(ins('bkcmd=3', 'sys0=sys0'));
    expect(w.got()).toEqual(hex('01 ff ff ff 01 ff ff ff'));
    w.clear();
    // 0x23 "Variable name too long … 14 for page + "." + 14 for component"
    await w.send(ins('tFifteenCharsXY.txt="x"'));
    // 0x11 "Invalid Baud rate Setting"
    await w.send(ins('baud=12345'));
    // 0x02 "Invalid Component ID"
    await w.send(ins('tNope.txt="x"'));
    expect(w.got()).toEqual(hex('23 ff ff ff 11 ff ff ff 02 ff ff ff'));
  });
});

describe('panel emulator line speed', () => {
  it('understands the host only at its own speed; baud= switches it', async () => {
    const rate = { value: 115200 };
    const w = wire('editor-1.65', rate);
    await w.send(ins('bkcmd=3'));
    expect(w.panel.bkcmd).toBe(2);
    expect(w.panel.garbledBytes).toBeGreaterThan(0);
    // Touches reach a host at the wrong speed as noise without a single FF.
    w.panel.touch('bJoin');
    await settle();
    expect(w.got().length).toBeGreaterThan(0);
    expect(w.got().includes(0xff)).toBe(false);
    expect(w.got()).toEqual(garble(hex('65 00 07 01 ff ff ff 65 00 07 00 ff ff ff')));
    w.clear();
    rate.value = 9600;
    // The noise it buffered ends with the first FF FF FF: an invalid instruction, then connect.
    await w.send(ins('', 'connect'));
    expect(String.fromCharCode(...w.got())).toContain('comok');
    await w.send(ins('baud=115200'));
    expect(w.panel.rate).toBe(115200);
    rate.value = 115200;
    w.clear();
    await w.send(ins('bkcmd=3', 'page 3'));
    expect(w.panel.page).toBe(3);
    expect(w.got()).toEqual(hex('01 ff ff ff 01 ff ff ff'));
    w.panel.restart();
    expect(w.panel.rate).toBe(9600);
  });
});

describe('panel emulator serial buffer (§7, 0x24)', () => {
  it('"Buffer will continue to receive the current instruction, all previous instructions are lost"', async () => {
    const w = wire('editor-1.65');
    await w.send(ins('bkcmd=3'));
    w.clear();
    w.panel.busy = true;
    const a = `tRoom.txt="${'a'.repeat(590)}"`;
    const b = `tDate.txt="${'b'.repeat(590)}"`;
    await w.send(ins(a));
    expect(w.got()).toEqual(new Uint8Array());
    await w.send(ins(b));
    expect(w.got()).toEqual(hex('24 ff ff ff'));
    expect(w.panel.overflows).toBe(1);
    w.panel.busy = false;
    await settle();
    expect(w.panel.text('tRoom')).toBe('');
    expect(w.panel.text('tDate')).toBe('b'.repeat(32));
    expect(w.got()).toEqual(hex('24 ff ff ff 01 ff ff ff'));
  });
});
