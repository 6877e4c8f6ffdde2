/**
 * VISCA against the published Sony documents, byte for byte (docs/hardware.md §Conformance):
 * - EVI-D70/P Technical Manual (A-BS4-100-11), "VISCA Device Setting Command" (p. 33/34) and
 *   "EVI-D70/P Command List (4/4)" (p. 41);
 * - EVI-D80/D90 Technical Manual, "VISCA Device Setting Command" (p. 24) and "Command List (3/3)"
 *   (p. 31, CAM_Memory);
 * - BRC-H700 Command List v1.20 (A-C8L-100-13), "BRC-H700 Command List (4/5)" (p. 12);
 *   BRC-Z700 Command List (A-CY3-100-11), "VISCA Device Setting Command" (p. 6, model IDs:
 *   0501 BRC-H700, 0502 BRU-H700, 0505 BRC-Z700); BRC-H900 Command List, "VISCA Device Setting
 *   Command" (p. 6: the same, plus 0507 BRC-Z330 and 050B BRC-H900);
 *   BRC-300 Command List, "Inquiry Command List (2/2)" (p. 14, PanTilt_Position);
 * - SRG-X400 Command List, "Command List (7/8)" (p. 20) and "VISCA Command/ACK Protocol" (p. 7);
 * - SRG-300H Technical Manual, "VISCA interface and inquiry"; FCB-EV7500 Technical Manual,
 *   "VISCA Device Setting Command".
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/core/clock.ts';
import { ViscaCamera } from '../../../../src/devices/camera/visca-camera.ts';
import {
  decodeReply,
  encodeCommand,
  LAYOUT_BRC,
  LAYOUT_EVI,
  LAYOUT_SRG_X,
  parsePanTiltReply,
  parseVersionReply,
  type ViscaCommand,
} from '../../../../src/devices/camera/visca-codec.ts';
import { identify, type ViscaModelSetting } from '../../../../src/devices/camera/visca-models.ts';
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
const text = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const settle = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

/** A ViscaCamera on a memory line whose camera end the test plays by hand. */
async function line(model?: ViscaModelSetting) {
  const clock = new FakeClock();
  const hub = new MemoryStreamHub();
  const sent: string[] = [];
  let cam: MemoryByteStream | null = null;
  hub.plug('/dev/serial/by-id/cam', (d) => {
    cam = d;
    d.on('data', (b) => sent.push(text(b)));
  });
  const stream = new SupervisedStream({ path: '/dev/serial/by-id/cam', opener: hub.opener, clock });
  const camera = new ViscaCamera({ stream, clock, ...(model === undefined ? {} : { model }) });
  stream.start();
  await settle();
  const reply = async (bytes: string) => {
    await cam!.write(hex(bytes));
    await settle();
  };
  /** Answer the setup the way a camera on address 1 does, with this CAM_VersionInq answer. */
  const setUp = async (version: string) => {
    await reply('88 30 02 ff');
    await reply('88 01 00 01 ff');
    await reply(version);
  };
  return { camera, sent, reply, setUp, clock, stop: () => stream.stop() };
}

const EVI_D70 = '90 50 00 20 04 0e 01 01 02 ff';
const EVI_D90 = '90 50 00 01 05 0d 01 00 02 ff';
const BRC_H700 = '90 50 00 01 05 01 01 20 02 ff';

describe('VISCA setup (Address Set, IF_Clear, CAM_VersionInq)', () => {
  it('sends Address Set broadcast first, then IF_Clear, then asks the version', async () => {
    // EVI-D70 p. 33: "be sure to send the Address command and the IF_Clear command using the
    // broadcast function": Address 88 30 01 FF; IF_Clear (broadcast) 88 01 00 01 FF → 88 01 00 01 FF.
    const t = await line();
    expect(t.sent).toEqual(['88 30 01 ff']);
    // EVI-D80/D90 p. 24: reply 88 30 0w FF, w = address of the last device + 1.
    await t.reply('88 30 02 ff');
    expect(t.sent).toEqual(['88 30 01 ff', '88 01 00 01 ff']);
    await t.reply('88 01 00 01 ff');
    // CAM_VersionInq 8X 09 00 02 FF → Y0 50 GG GG HH HH JJ JJ KK FF.
    expect(t.sent.at(-1)).toBe('81 09 00 02 ff');
    await t.reply(EVI_D70);
    expect(t.camera.model).toMatchObject({
      family: 'sony-evi',
      name: 'EVI-D70',
      vendorId: 0x0020,
      modelId: 0x040e,
      source: 'detected',
    });
    expect(t.camera.session.health).toBe('ok');
    expect(t.camera.session.chain).toBe(1);
    await t.stop();
  });

  it('sets the address again on Network Change (z0 38 FF) and holds commands until it is done', async () => {
    // EVI-D70 p. 33: "Network Change X0 38 FF … The address must be re-set when this message is received."
    const t = await line();
    await t.setUp(EVI_D70);
    expect(decodeReply(hex('90 38 ff'))).toEqual({ kind: 'network-change', address: 1 });
    t.sent.length = 0;
    await t.reply('90 38 ff');
    expect(t.sent).toEqual(['88 30 01 ff']);
    const home = t.camera.home();
    await settle();
    expect(t.sent).toEqual(['88 30 01 ff']);
    await t.setUp(EVI_D70);
    expect(t.sent.at(-1)).toBe('81 01 06 04 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await home;
    expect(t.camera.session.counters.networkChanges).toBe(1);
    await t.stop();
  });

  it('reports a camera that does not answer Address Set as unresponsive, naming the step', async () => {
    const t = await line();
    const errors: unknown[] = [];
    t.camera.session.on('health', (h) => errors.push(h.error?.context));
    t.clock.advance(1000);
    await settle();
    expect(t.camera.session.health).toBe('unresponsive');
    expect(errors).toEqual([{ device: 'camera', step: 'address-set' }]);
    await t.stop();
  });
});

describe('pan/tilt position layouts per model', () => {
  const abs = (
    pan: number,
    tilt: number,
    kind: 'pan-tilt-absolute' | 'pan-tilt-relative' = 'pan-tilt-absolute',
  ): ViscaCommand => ({
    kind,
    pan,
    tilt,
    panSpeed: 0x18,
    tiltSpeed: 0x14,
  });

  it('BRC-H700: 8x 01 06 02 VV 00 0Y 0Y 0Y 0Y 0Y 0Z 0Z 0Z 0Z FF, pan limits 0x08A58 / 0xF75A8', () => {
    expect(text(encodeCommand(abs(0x8a58, 0x493d), 1, LAYOUT_BRC))).toBe(
      '81 01 06 02 18 00 00 08 0a 05 08 04 09 03 0d ff',
    );
    expect(text(encodeCommand(abs(-0x8a58, -0x186a, 'pan-tilt-relative'), 1, LAYOUT_BRC))).toBe(
      '81 01 06 03 18 00 0f 07 05 0a 08 0e 07 09 06 ff',
    );
    // BRC-300 Inquiry List (2/2): PanTilt_Position y0 50 0p 0q 0r 0s 0t 0u 0v 0w 0x FF.
    const data = [...hex('90 50 0f 07 05 0a 08 00 01 00 00 ff')].slice(2, -1);
    expect(parsePanTiltReply(data, 5)).toEqual({ pan: -0x8a58, tilt: 0x100 });
  });

  it('SRG-X400: 8x 01 06 02 vv 00 0p 0p 0p 0p 0t 0t 0t 0t FF; EVI-D70 keeps VV WW', () => {
    expect(text(encodeCommand(abs(0x100, -1), 1, LAYOUT_SRG_X))).toBe(
      '81 01 06 02 18 00 00 01 00 00 0f 0f 0f 0f ff',
    );
    // EVI-D70 p. 41: 8x 01 06 02 VV WW 0Y 0Y 0Y 0Y 0Z 0Z 0Z 0Z FF, pan F725 … 08DB.
    expect(text(encodeCommand(abs(-0x8db, 0x4b0), 1, LAYOUT_EVI))).toBe(
      '81 01 06 02 18 14 0f 07 02 05 00 04 0b 00 ff',
    );
  });

  it('a BRC-H700 found by CAM_VersionInq gets the 5-nibble layout; a setting forces it', async () => {
    const t = await line();
    await t.setUp(BRC_H700);
    expect(t.camera.model).toMatchObject({ family: 'sony-brc', name: 'BRC-H700' });
    const move = t.camera.moveTo({ pan: -0x8a58, tilt: 0 }, 1);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 06 02 18 00 0f 07 05 0a 08 00 00 00 00 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await move;
    await t.stop();

    // A camera that does not answer CAM_VersionInq (syntax error), forced to sony-brc.
    const f = await line('sony-brc');
    await f.setUp('90 60 02 ff');
    expect(f.camera.model).toMatchObject({ family: 'sony-brc', source: 'configured', modelId: null });
    const rel = f.camera.moveBy({ pan: 0x10000, tilt: 0 }, 1);
    await settle();
    expect(f.sent.at(-1)).toBe('81 01 06 03 18 00 01 00 00 00 00 00 00 00 00 ff');
    await f.reply('90 41 ff');
    await f.reply('90 51 ff');
    await rel;
    await f.stop();
  });
});

describe('preset numbering per model', () => {
  it('EVI-D90: room presets 1–6 are CAM_Memory 0–5 ("corresponds to 1 to 6 on the Remote Commander")', async () => {
    // EVI-D80/D90 p. 31: CAM_Memory Recall 8x 01 04 3F 02 0p FF, p: Memory Number (=0 to 5).
    const t = await line();
    await t.setUp(EVI_D90);
    expect(t.camera.model.name).toBe('EVI-D90');
    const recall = t.camera.recallPreset(1);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 04 3f 02 00 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await recall;
    const save = t.camera.savePreset(6);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 04 3f 01 05 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await save;
    await expect(t.camera.recallPreset(7)).rejects.toMatchObject({ code: 'core.invalid_argument' });
    await expect(t.camera.recallPreset(0)).rejects.toMatchObject({ code: 'core.invalid_argument' });
    await t.stop();
  });

  it('a preset asked for during setup uses the model the setup finds', async () => {
    const t = await line();
    const recall = t.camera.recallPreset(2);
    await settle();
    expect(t.sent).toEqual(['88 30 01 ff']);
    await t.setUp(EVI_D70);
    expect(t.sent.at(-1)).toBe('81 01 04 3f 02 01 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await recall;
    await t.stop();
  });

  it('an unknown Sony model: preset 1 is memory 0, moves in the VV WW 4+4 layout', async () => {
    // BRC-Z700 Command List p. 6: vendor 0001 is Sony; model 0577 is in no table.
    const t = await line();
    await t.setUp('90 50 00 01 05 77 01 00 02 ff');
    expect(t.camera.model).toMatchObject({ family: 'sony-evi', name: null, modelId: 0x0577 });
    const recall = t.camera.recallPreset(1);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 04 3f 02 00 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await recall;
    const move = t.camera.moveTo({ pan: 0x100, tilt: -1 }, 1);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 06 02 18 14 00 01 00 00 0f 0f 0f 0f ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await move;
    await t.stop();
  });

  it('a camera of another maker keeps memory = preset', async () => {
    const t = await line();
    await t.setUp('90 60 02 ff');
    expect(t.camera.model).toMatchObject({ family: 'generic', source: 'default' });
    const recall = t.camera.recallPreset(2);
    await settle();
    expect(t.sent.at(-1)).toBe('81 01 04 3f 02 02 ff');
    await t.reply('90 41 ff');
    await t.reply('90 51 ff');
    await recall;
    await t.stop();
  });
});

describe('CAM_VersionInq answers', () => {
  it.each([
    // [document, reply data GG GG HH HH JJ JJ KK, model name, family]
    ['EVI-D70 p. 33 (0020 / 040E)', '00 20 04 0e 01 01 02', 'EVI-D70', 'sony-evi'],
    ['EVI-D80/D90 p. 24 (0001 / 050C)', '00 01 05 0c 01 00 02', 'EVI-D80', 'sony-evi'],
    ['SRG-300H (0001 / 0513)', '00 01 05 13 01 00 02', 'SRG-300H', 'sony-evi'],
    ['BRC-Z700 p. 6 (0001 / 0505)', '00 01 05 05 01 00 02', 'BRC-Z700', 'sony-brc'],
    ['FCB-EV7500 (0020 / 0467)', '00 20 04 67 03 00 02', 'FCB-EV7500', 'sony-evi'],
    ['BRC-Z700 Command List p. 6 (0001 / 0502 BRU-H700)', '00 01 05 02 01 00 02', 'BRU-H700', 'sony-brc'],
    ['BRC-H900 Command List p. 6 (0001 / 0507 BRC-Z330)', '00 01 05 07 01 00 02', 'BRC-Z330', 'sony-evi'],
    ['BRC-H900 Command List p. 6 (0001 / 050B BRC-H900)', '00 01 05 0b 01 00 02', 'BRC-H900', 'sony-evi'],
  ])('%s', (_doc, data, name, family) => {
    const v = parseVersionReply([...hex(data)]);
    expect(v).not.toBeNull();
    expect(identify(v).info).toMatchObject({ name, family, source: 'detected' });
  });

  it('an unknown vendor is generic; a short answer is no answer', () => {
    expect(identify(parseVersionReply([...hex('12 34 05 01 00 00 02')])).info).toMatchObject({
      family: 'generic',
      name: null,
      vendorId: 0x1234,
    });
    expect(parseVersionReply([0, 1, 5])).toBeNull();
  });

  it.each([
    ['0001', '00 01 05 99 01 00 02'],
    ['0020', '00 20 04 99 01 00 02'],
  ])('a Sony model roomd does not know (vendor %s) gets Sony numbering and the EVI layout', (_v, data) => {
    const { profile, info } = identify(parseVersionReply([...hex(data)]));
    expect(info).toMatchObject({ family: 'sony-evi', name: null, source: 'detected' });
    expect(profile).toMatchObject({ layout: LAYOUT_EVI, presetBase: 1 });
  });
});
