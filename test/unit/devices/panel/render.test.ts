/**
 * The meeting page's identity lines and roster code (docs/hardware.md, page 3 `meeting`): pure
 * rendering, then the same view drawn on the panel emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NextionEmulator } from '../../../../device/panel/emulator.ts';
import { FakeClock } from '../../../../src/core/clock.ts';
import { COLOURS, MEETING, PARTICIPANT_LINES } from '../../../../src/devices/panel/contract.ts';
import { PanelController } from '../../../../src/devices/panel/controller.ts';
import { NextionLink } from '../../../../src/devices/panel/link.ts';
import { participantLines, render } from '../../../../src/devices/panel/render.ts';
import type { MeetingView, ParticipantView, RoomView } from '../../../../src/devices/panel/view.ts';
import { MemoryStreamHub } from '../../../../src/transport/serial/memory.ts';
import { SupervisedStream } from '../../../../src/transport/serial/supervisor.ts';

const ROSTER = '12345 67890 13579 24680';
const NOW = Date.UTC(2026, 10, 26, 9, 0);

const people: ParticipantView[] = [
  { name: 'Fjord', identity: 'verified', clientType: 'room', self: true },
  { name: 'Alice Smith', identity: 'verified', clientType: 'desktop' },
  { name: 'Bob Jones', identity: 'unverified', clientType: 'mobile' },
  { name: 'Carol White', identity: 'key-changed', clientType: 'desktop' },
  { name: '+44 20 7946 0000', identity: 'none', clientType: 'phone' },
];

function view(meeting: Partial<MeetingView> = {}): RoomView {
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
      securityCode: '12345 67890 11111 22222 33333 44444 55555 66666',
      muted: false,
      cameraOn: true,
      volume: 50,
      rosterCode: ROSTER,
      participants: people,
      ...meeting,
    },
  };
}

function meetingOf(v: RoomView): MeetingView {
  if (v.phase !== 'in-meeting') throw new Error('not in a meeting');
  return v.meeting;
}

const ui = { keypad: null, notice: null };
const item = (r: ReturnType<typeof render>, key: string) => r.items.get(key);

describe('participantLines', () => {
  it('leaves this room out, puts a changed key first and leads each line with its mark', () => {
    const { lines, more } = participantLines(people);
    expect(lines.map((l) => l.text)).toEqual([
      'KEY CHANGED: Carol White',
      'not verified: Bob Jones',
      'verified: Alice Smith',
      'telephone: +44 20 7946 0000',
    ]);
    expect(lines.map((l) => l.colour)).toEqual([COLOURS.alarm, COLOURS.warn, COLOURS.ok, COLOURS.text]);
    expect(more).toBeNull();
  });

  it('keeps roster order within one kind', () => {
    const { lines } = participantLines([
      { name: 'B', identity: 'verified', clientType: 'desktop' },
      { name: 'A', identity: 'verified', clientType: 'desktop' },
      { name: 'C', identity: 'unverified', clientType: 'desktop' },
    ]);
    expect(lines.map((l) => l.text)).toEqual(['not verified: C', 'verified: B', 'verified: A']);
  });

  it('sums up who does not fit, naming the problems among them', () => {
    const many: ParticipantView[] = [
      ...Array.from({ length: 5 }, (_, i) => ({
        name: `Changed ${i}`,
        identity: 'key-changed' as const,
        clientType: 'desktop',
      })),
      { name: 'Unverified', identity: 'unverified', clientType: 'mobile' },
      { name: 'Verified', identity: 'verified', clientType: 'desktop' },
    ];
    const { lines, more } = participantLines(many);
    expect(lines).toHaveLength(PARTICIPANT_LINES);
    expect(lines.every((l) => l.text.startsWith('KEY CHANGED: '))).toBe(true);
    expect(more).toEqual({ text: '+3 more, 1 KEY CHANGED, 1 not verified', colour: COLOURS.alarm });
    const calm = participantLines(
      Array.from({ length: 6 }, (_, i) => ({
        name: `P${i}`,
        identity: 'verified' as const,
        clientType: 'web',
      })),
    );
    expect(calm.more).toEqual({ text: '+2 more', colour: COLOURS.text });
  });

  it('says so when nobody else has joined', () => {
    expect(participantLines([people[0]!]).lines.map((l) => l.text)).toEqual(['Nobody else has joined yet.']);
  });

  it('cannot break a line with control characters in a name', () => {
    const { lines } = participantLines([
      { name: 'Mallory\r\nverified: Alice', identity: 'unverified', clientType: 'web' },
    ]);
    expect(lines[0]?.text).toBe('not verified: Mallory verified: Alice');
  });
});

describe('render, meeting page identities', () => {
  it('writes the roster code and one coloured line per participant within the contract limits', () => {
    const r = render(view(), ui, NOW);
    expect(r.page).toBe(MEETING);
    expect(item(r, 'tRoster.txt')).toBe(`tRoster.txt="Roster check ${ROSTER}"`);
    expect(item(r, 'tRoster.vis')).toBe('vis tRoster,1');
    expect(item(r, 'tPart0.txt')).toBe('tPart0.txt="KEY CHANGED: Carol White"');
    expect(item(r, 'tPart0.pco')).toBe(`tPart0.pco=${COLOURS.alarm}`);
    expect(item(r, 'tPart1.txt')).toBe('tPart1.txt="not verified: Bob Jones"');
    expect(item(r, 'tPart2.txt')).toBe('tPart2.txt="verified: Alice Smith"');
    expect(item(r, 'tPart3.vis')).toBe('vis tPart3,1');
    expect(item(r, 'tPartMore.vis')).toBe('vis tPartMore,0');
    // Every text fits its component (the limits the HMI project's txt_maxl is set to).
    for (const c of MEETING.components.filter((x) => x.kind === 'text')) {
      const v = /^[^=]+\.txt="(.*)"$/.exec(item(r, `${c.name}.txt`) ?? '')?.[1] ?? '';
      expect(v.length, c.name).toBeLessThanOrEqual(c.maxChars ?? 0);
    }
    expect(`Roster check ${ROSTER}`.length).toBe(
      MEETING.components.find((c) => c.name === 'tRoster')?.maxChars,
    );
  });

  it('cuts a long name, never the mark', () => {
    const r = render(
      view({ participants: [{ name: 'A'.repeat(60), identity: 'key-changed', clientType: 'desktop' }] }),
      ui,
      NOW,
    );
    expect(item(r, 'tPart0.txt')).toBe(`tPart0.txt="KEY CHANGED: ${'A'.repeat(40 - 13)}"`);
  });

  it('hides the roster code and the lines when there are none', () => {
    // What an app layer that fills neither field sends.
    const { rosterCode: _code, participants: _people, ...older } = meetingOf(view());
    const r = render({ ...view(), phase: 'in-meeting', meeting: older }, ui, NOW);
    expect(item(r, 'tRoster.vis')).toBe('vis tRoster,0');
    for (let i = 0; i < PARTICIPANT_LINES; i++) expect(item(r, `tPart${i}.vis`)).toBe(`vis tPart${i},0`);
    expect(item(r, 'tPartMore.vis')).toBe('vis tPartMore,0');
    expect(item(render(view({ rosterCode: '1234 5678' }), ui, NOW), 'tRoster.vis')).toBe('vis tRoster,0');
  });
});

describe('meeting page identities on the panel emulator', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  const settle = async (rounds = 40) => {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  };

  it('shows the marks and the roster code, and a key change turns a line red', async () => {
    const clock = new FakeClock(NOW);
    const hub = new MemoryStreamHub();
    const panel = new NextionEmulator();
    hub.plug('/dev/serial/by-id/panel', (d) => panel.attach(d));
    const stream = new SupervisedStream({ path: '/dev/serial/by-id/panel', opener: hub.opener, clock });
    const link = new NextionLink({ stream, clock });
    const noop = async () => {};
    const calm = people.map((p) =>
      p.identity === 'key-changed' ? { ...p, identity: 'verified' as const } : p,
    );
    const ctl = new PanelController({
      link,
      clock,
      view: view({ participants: calm }),
      commands: {
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
      },
    });
    ctl.start();
    stream.start();
    stop = () => stream.stop();
    await settle();
    expect(panel.pageSpec.name).toBe('meeting');
    expect(panel.text('tRoster')).toBe(`Roster check ${ROSTER}`);
    expect(panel.render()).toContain('tPart0: not verified: Bob Jones');
    expect(panel.component('tPart0')?.pco).toBe(COLOURS.warn);
    expect(panel.text('tPart1')).toBe('verified: Alice Smith');
    expect(panel.component('tPart1')?.pco).toBe(COLOURS.ok);

    ctl.setView(view());
    await settle();
    expect(panel.text('tPart0')).toBe('KEY CHANGED: Carol White');
    expect(panel.component('tPart0')?.pco).toBe(COLOURS.alarm);
    expect(panel.text('tPart1')).toBe('not verified: Bob Jones');

    ctl.setView(view({ rosterCode: null, participants: [people[0]!] }));
    await settle();
    expect(panel.component('tRoster')?.vis).toBe(false);
    expect(panel.text('tPart0')).toBe('Nobody else has joined yet.');
    expect(panel.component('tPart1')?.vis).toBe(false);
  });
});
