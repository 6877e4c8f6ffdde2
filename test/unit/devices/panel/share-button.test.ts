/**
 * The meeting page's Share button (docs/hardware.md, page 3 `meeting`): its three states rendered
 * purely, then on the panel emulator — a touch asks the room to share or stop, a disabled button
 * asks nothing, and a refusal shows its sentence on the notice line.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NextionEmulator } from '../../../../device/panel/emulator.ts';
import { FakeClock } from '../../../../src/core/clock.ts';
import { ERROR_CODES, RoomdError } from '../../../../src/core/errors.ts';
import { COLOURS, MEETING } from '../../../../src/devices/panel/contract.ts';
import { PanelController } from '../../../../src/devices/panel/controller.ts';
import { NextionLink } from '../../../../src/devices/panel/link.ts';
import { render, shareButton } from '../../../../src/devices/panel/render.ts';
import type { RoomView, ShareView } from '../../../../src/devices/panel/view.ts';
import type { RoomCommands } from '../../../../src/protocol/room-commands.ts';
import { MemoryStreamHub } from '../../../../src/transport/serial/memory.ts';
import { SupervisedStream } from '../../../../src/transport/serial/supervisor.ts';

const NOW = Date.UTC(2026, 10, 26, 9, 0);
const ui = { keypad: null, notice: null };

const CAN: ShareView = { active: false, self: false, by: null, canShare: true };
const SELF: ShareView = { active: true, self: true, by: 'Fjord', canShare: true };
const OTHER: ShareView = { active: true, self: false, by: 'Alice Smith', canShare: true };
const NO_SOURCE: ShareView = { active: false, self: false, by: null, canShare: false };

function view(share: ShareView | null | undefined): RoomView {
  return {
    phase: 'in-meeting',
    roomName: 'Fjord',
    timeZone: 'UTC',
    meetings: [],
    notice: null,
    presets: [],
    meeting: {
      title: 'Board review',
      shield: 'e2ee',
      securityCode: null,
      muted: false,
      cameraOn: true,
      volume: 50,
      ...(share === undefined ? {} : { share }),
    },
  };
}

const items = (share: ShareView | null | undefined) => render(view(share), ui, NOW).items;

describe('render, the Share button', () => {
  it('"Share" while the room can share and nobody does', () => {
    const r = items(CAN);
    expect(r.get('bShare.txt')).toBe('bShare.txt="Share"');
    expect(r.get('bShare.bco')).toBe(`bShare.bco=${COLOURS.normal}`);
    expect(r.get('bShare.pco')).toBe(`bShare.pco=${COLOURS.caption}`);
    expect(r.get('bShare.vis')).toBe('vis bShare,1');
  });

  it('"Stop sharing", red, while the room shares', () => {
    const r = items(SELF);
    expect(r.get('bShare.txt')).toBe('bShare.txt="Stop sharing"');
    expect(r.get('bShare.bco')).toBe(`bShare.bco=${COLOURS.active}`);
    expect(r.get('bShare.pco')).toBe(`bShare.pco=${COLOURS.caption}`);
  });

  it('grey with the reason while someone else shares or there is no content source', () => {
    const other = items(OTHER);
    expect(other.get('bShare.txt')).toBe('bShare.txt="Alice Smith is sharing"');
    expect(other.get('bShare.bco')).toBe(`bShare.bco=${COLOURS.normal}`);
    expect(other.get('bShare.pco')).toBe(`bShare.pco=${COLOURS.disabled}`);
    const none = items(NO_SOURCE);
    expect(none.get('bShare.txt')).toBe('bShare.txt="No content source connected"');
    expect(none.get('bShare.pco')).toBe(`bShare.pco=${COLOURS.disabled}`);
    // Someone else's share says so even when the room has no content source either.
    expect(items({ ...OTHER, canShare: false }).get('bShare.txt')).toBe(
      'bShare.txt="Alice Smith is sharing"',
    );
  });

  it('"Take over sharing" when the room is the meeting\'s host and someone else shares', () => {
    expect(shareButton({ ...OTHER, host: true })).toEqual({ text: 'Take over sharing', on: true });
    expect(shareButton({ ...OTHER, host: true, canShare: false }).on).toBeNull();
  });

  it('is hidden when the room cannot share in this meeting', () => {
    expect(items(null).get('bShare.vis')).toBe('vis bShare,0');
    expect(items(undefined).get('bShare.vis')).toBe('vis bShare,0');
  });

  it('cuts a long or hostile name, never "is sharing", within the contract limit', () => {
    const max = MEETING.components.find((c) => c.name === 'bShare')?.maxChars ?? 0;
    const long = shareButton({ ...OTHER, by: `${'A'.repeat(15)} ${'B'.repeat(40)}` });
    expect(long.text).toBe(`${'A'.repeat(15)} ${'B'.repeat(max - 11 - 16)} is sharing`);
    expect(long.text.length).toBe(max);
    expect(shareButton({ ...OTHER, by: `${'A'.repeat(20)} xyz` }).text).toBe(`${'A'.repeat(20)} is sharing`);
    expect(shareButton({ ...OTHER, by: 'Mallory\r\nStop' }).text).toBe('Mallory Stop is sharing');
    expect(shareButton({ ...OTHER, by: '\u0007' }).text).toBe('Someone is sharing');
    expect(shareButton({ ...OTHER, by: null }).text).toBe('Someone is sharing');
  });

  it('asks share(true) to start, share(false) to stop, and nothing while disabled', () => {
    expect(shareButton(CAN).on).toBe(true);
    expect(shareButton(SELF).on).toBe(false);
    expect(shareButton(OTHER).on).toBeNull();
    expect(shareButton(NO_SOURCE).on).toBeNull();
  });
});

describe('the Share button on the panel emulator', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  const settle = async (rounds = 40) => {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  };

  async function setup(share: ShareView) {
    const clock = new FakeClock(NOW);
    const hub = new MemoryStreamHub();
    const panel = new NextionEmulator();
    hub.plug('/dev/serial/by-id/panel', (d) => panel.attach(d));
    const stream = new SupervisedStream({ path: '/dev/serial/by-id/panel', opener: hub.opener, clock });
    const link = new NextionLink({ stream, clock });
    const noop = vi.fn(async () => {});
    const share_ = vi.fn(async (_on: boolean) => {});
    const commands: RoomCommands = {
      join: noop,
      leave: noop,
      setMute: noop,
      setCamera: noop,
      setVolume: noop,
      ptz: noop,
      react: noop,
      chat: noop,
      share: share_,
      acknowledgeSecurityCode: noop,
    };
    const ctl = new PanelController({ link, clock, view: view(share), commands });
    ctl.start();
    stream.start();
    stop = () => stream.stop();
    await settle();
    return { clock, panel, ctl, share: share_ };
  }

  it('starts and stops the room’s share with touches', async () => {
    const t = await setup(CAN);
    expect(t.panel.pageSpec.name).toBe('meeting');
    expect(t.panel.render()).toContain('bShare: Share');
    t.panel.touch('bShare');
    await settle();
    expect(t.share).toHaveBeenCalledExactlyOnceWith(true);

    t.ctl.setView(view(SELF));
    await settle();
    expect(t.panel.text('bShare')).toBe('Stop sharing');
    expect(t.panel.component('bShare')?.bco).toBe(COLOURS.active);
    t.panel.touch('bShare');
    await settle();
    expect(t.share).toHaveBeenLastCalledWith(false);
    expect(t.share).toHaveBeenCalledTimes(2);
  });

  it('asks nothing while disabled, and is hidden without a share', async () => {
    const t = await setup(OTHER);
    expect(t.panel.text('bShare')).toBe('Alice Smith is sharing');
    expect(t.panel.component('bShare')?.pco).toBe(COLOURS.disabled);
    t.panel.touch('bShare');
    t.ctl.setView(view(NO_SOURCE));
    await settle();
    expect(t.panel.text('bShare')).toBe('No content source connected');
    t.panel.touch('bShare');
    await settle();
    expect(t.share).not.toHaveBeenCalled();

    t.ctl.setView(view(null));
    await settle();
    expect(t.panel.component('bShare')?.vis).toBe(false);
    expect(t.panel.render()).not.toContain('bShare');
  });

  it('shows a refusal on the notice line, as for any failed command', async () => {
    const t = await setup(CAN);
    t.share.mockRejectedValueOnce(new RoomdError('meeting.share_busy'));
    t.panel.touch('bShare');
    await settle();
    expect(t.share).toHaveBeenCalledWith(true);
    expect(t.panel.text('tNotice')).toBe(ERROR_CODES['meeting.share_busy'].message.slice(0, 80));
    for (let i = 0; i < 90; i++) {
      t.clock.advance(100);
      await settle(5);
    }
    expect(t.panel.text('tNotice')).toBe('');
    expect(t.panel.text('bShare')).toBe('Share');
  });
});
