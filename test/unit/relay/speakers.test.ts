// Active-speaker selection (src/relay/speakers.ts): video layers by recency of speech, audio by loudness.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type SpeakerEffect,
  type SpeakerEvent,
  type SpeakerParams,
  SpeakerTracker,
  type VideoLayer,
} from '../../../src/relay/speakers.ts';

const SILENT = 127;

function tracker(ids: string[], params: Partial<SpeakerParams> = {}, now = 0) {
  const t = new SpeakerTracker({ lastN: 4, loudest: 3, ...params });
  const effects: SpeakerEffect[] = [];
  for (const id of ids) effects.push(...t.handle({ type: 'joined', participant: id }, now));
  return { t, effects };
}

const level = (participant: string, l: number): SpeakerEvent => ({ type: 'level', participant, level: l });
const layers = (t: SpeakerTracker, ids: string[]) => Object.fromEntries(ids.map((id) => [id, t.layerOf(id)]));
const fx = (participant: string, layer: VideoLayer): SpeakerEffect => ({
  type: 'video-layer',
  participant,
  layer,
});

const SIX = ['a', 'b', 'c', 'd', 'e', 'f'];

describe('SpeakerTracker: video layers', () => {
  it('keeps a small meeting at full with no effects, whatever is said', () => {
    const { t, effects } = tracker(['a', 'b', 'c', 'd']);
    expect(effects).toEqual([]);
    expect(t.big).toBe(false);
    for (let ms = 0; ms <= 2000; ms += 20) {
      for (const id of ['a', 'b', 'c', 'd'])
        expect(t.handle(level(id, ms % 40 === 0 ? 10 : SILENT), ms)).toEqual([]);
    }
    expect(t.handle({ type: 'tick' }, 5000)).toEqual([]);
    expect(layers(t, ['a', 'b', 'c', 'd'])).toEqual({ a: 'full', b: 'full', c: 'full', d: 'full' });
  });

  it('demotes joiners 5 and 6 when six join with lastN 4, the first four staying full', () => {
    const { t, effects } = tracker(SIX);
    expect(t.big).toBe(true);
    expect(effects).toEqual([fx('e', 'small'), fx('f', 'small')]);
    expect(t.order()).toEqual(SIX);
    expect(layers(t, SIX)).toEqual({ a: 'full', b: 'full', c: 'full', d: 'full', e: 'small', f: 'small' });
  });

  it('promotes only on two loud levels at least 100 ms apart within 1 s', () => {
    const { t } = tracker(SIX);
    expect(t.handle(level('e', 20), 1000)).toEqual([]); // a click
    expect(t.handle(level('e', 20), 1050)).toEqual([]); // 50 ms later: still not speech
    expect(t.handle(level('e', SILENT), 1080)).toEqual([]);
    expect(t.handle(level('e', 60), 1100)).toEqual([]); // not loud enough
    expect(t.handle(level('e', 20), 2500)).toEqual([]); // 1.45 s after the last loud level
    expect(t.layerOf('e')).toBe('small');
    // 100 ms after the previous loud level: onset. The least recent full one (d, never spoke, joined last
    // of the full ones) makes room, and both changes are reported, promotion first.
    expect(t.handle(level('e', 20), 2600)).toEqual([fx('e', 'full'), fx('d', 'small')]);
    expect(t.order()).toEqual(['e', 'a', 'b', 'c', 'd', 'f']);
  });

  it('demotes the least recent full speaker when a small one starts speaking', () => {
    const { t } = tracker(SIX);
    // a, b, c, d speak in turn (all full already: no effects), then f starts.
    let ms = 0;
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(t.handle(level(id, 30), ms)).toEqual([]);
      expect(t.handle(level(id, 30), ms + 150)).toEqual([]);
      ms += 2000;
    }
    expect(t.order()).toEqual(['d', 'c', 'b', 'a', 'e', 'f']);
    t.handle(level('f', 30), ms);
    expect(t.handle(level('f', 30), ms + 120)).toEqual([fx('f', 'full'), fx('a', 'small')]);
    // a speaks again: it comes back and pushes out the least recent, b.
    t.handle(level('a', 30), ms + 3000);
    expect(t.handle(level('a', 30), ms + 3250)).toEqual([fx('a', 'full'), fx('b', 'small')]);
    expect(layers(t, SIX)).toEqual({ a: 'full', b: 'small', c: 'full', d: 'full', e: 'small', f: 'full' });
  });

  it('keeps a continuing speaker full while others start', () => {
    const { t } = tracker(SIX, { lastN: 2 });
    // a speaks throughout (headers every 20 ms); e, then f, then b start in turn.
    const turns: Record<string, [number, number]> = { e: [1000, 1500], f: [2000, 2500], b: [3000, 4000] };
    for (let ms = 0; ms <= 4000; ms += 20) {
      t.handle(level('a', 25), ms);
      for (const [id, [from, to]] of Object.entries(turns)) {
        t.handle(level(id, ms >= from && ms <= to ? 30 : SILENT), ms);
      }
    }
    expect(t.order().slice(0, 2).sort()).toEqual(['a', 'b']); // both spoke at 4000
    expect(layers(t, SIX)).toEqual({ a: 'full', b: 'full', c: 'small', d: 'small', e: 'small', f: 'small' });
  });

  it('does not swap layers at every level when more than lastN speak at once', () => {
    const { t } = tracker(['a', 'b', 'c', 'd'], { lastN: 2 });
    const effects: SpeakerEffect[] = [];
    const from: Record<string, number> = { a: 0, b: 0, c: 500, d: 700 };
    for (let ms = 0; ms <= 3000; ms += 20) {
      for (const [id, start] of Object.entries(from))
        effects.push(...t.handle(level(id, ms >= start ? 30 : SILENT), ms));
    }
    // c's onset pushes out a, d's then b: four changes in all, none after.
    expect(effects).toEqual([fx('c', 'full'), fx('a', 'small'), fx('d', 'full'), fx('b', 'small')]);
    // a stops for longer than heldMs and starts again: a new onset, a promotion.
    for (let ms = 3020; ms <= 5000; ms += 20) {
      for (const id of ['b', 'c', 'd']) t.handle(level(id, 30), ms);
      t.handle(level('a', ms < 4200 ? SILENT : 30), ms);
    }
    expect(t.layerOf('a')).toBe('full');
  });

  /** Speech of each participant, fed as chunk headers (every 20 ms, silence too) or as reports (every 250 ms while speaking). */
  const SCRIPT: { id: string; from: number; to: number; level: number }[] = [
    { id: 'e', from: 1000, to: 3000, level: 30 },
    { id: 'f', from: 4000, to: 5000, level: 20 },
    { id: 'a', from: 6000, to: 7000, level: 40 },
    { id: 'd', from: 8000, to: 9000, level: 35 },
    { id: 'c', from: 10_000, to: 10_600, level: 45 },
    { id: 'b', from: 10_100, to: 12_000, level: 25 },
  ];
  const CHECKPOINTS = [500, 2000, 3500, 5500, 7500, 9500, 11_000, 13_000];

  function run(shape: 'header' | 'report') {
    const { t } = tracker(SIX);
    const events: { at: number; id: string; level: number }[] = [];
    if (shape === 'header') {
      for (let at = 0; at <= 13_000; at += 20) {
        for (const id of SIX) {
          const s = SCRIPT.find((x) => x.id === id && at >= x.from && at <= x.to);
          events.push({ at, id, level: s?.level ?? SILENT });
        }
      }
    } else {
      for (const s of SCRIPT)
        for (let at = s.from; at <= s.to; at += 250) events.push({ at, id: s.id, level: s.level });
      events.sort((x, y) => x.at - y.at);
    }
    const seen: Record<number, Record<string, VideoLayer | undefined>> = {};
    let next = 0;
    for (const e of events) {
      while (next < CHECKPOINTS.length && CHECKPOINTS[next]! < e.at)
        seen[CHECKPOINTS[next++]!] = layers(t, SIX);
      t.handle(level(e.id, e.level), e.at);
    }
    while (next < CHECKPOINTS.length) seen[CHECKPOINTS[next++]!] = layers(t, SIX);
    return { seen, order: t.order() };
  }

  it('gives the same layers for report-shaped (250 ms) and header-shaped (20 ms) levels', () => {
    const headers = run('header');
    const reports = run('report');
    expect(reports).toEqual(headers);
    const full = (at: number) =>
      Object.entries(headers.seen[at]!)
        .filter(([, l]) => l === 'full')
        .map(([id]) => id)
        .sort()
        .join('');
    expect(full(500)).toBe('abcd');
    expect(full(2000)).toBe('abce'); // e in, d (never spoke) out
    expect(full(5500)).toBe('abef'); // f in, c out
    expect(full(7500)).toBe('abef'); // a speaks: already full
    expect(full(9500)).toBe('adef'); // d in, b out
    expect(full(13_000)).toBe('abcd'); // c in (e out), then b in (f out)
    expect(headers.order).toEqual(['b', 'c', 'd', 'a', 'f', 'e']);
  });

  it('brings small participants back to full when the meeting shrinks to lastN', () => {
    const { t } = tracker(SIX);
    // A full one leaves a big meeting: the first small one in the order takes its place.
    expect(t.handle({ type: 'left', participant: 'b' }, 10)).toEqual([fx('e', 'full')]);
    expect(t.big).toBe(true);
    // A small one leaves and the meeting is lastN: nobody is selected any more, f comes back.
    t.handle(level('f', 30), 20);
    expect(t.handle({ type: 'left', participant: 'a' }, 30)).toEqual([fx('f', 'full')]);
    expect(t.big).toBe(false);
    expect(layers(t, ['c', 'd', 'e', 'f'])).toEqual({ c: 'full', d: 'full', e: 'full', f: 'full' });
    // A leaver gets no effect; leaving twice or an unknown participant changes nothing.
    expect(t.handle({ type: 'left', participant: 'c' }, 40)).toEqual([]);
    expect(t.handle({ type: 'left', participant: 'c' }, 50)).toEqual([]);
    expect(t.handle({ type: 'left', participant: 'zz' }, 50)).toEqual([]);
    expect(t.layerOf('c')).toBeUndefined();
  });

  it('ignores a second join and levels of participants not in the meeting', () => {
    const { t } = tracker(['a', 'b', 'c', 'd', 'e']);
    expect(t.handle({ type: 'joined', participant: 'a' }, 0)).toEqual([]);
    expect(t.handle(level('x', 10), 100)).toEqual([]);
    expect(t.handle(level('x', 10), 300)).toEqual([]);
    expect(t.unknownLevels).toBe(2);
    // x joins later: its earlier levels left nothing behind, so one more loud level is no onset.
    expect(t.handle({ type: 'joined', participant: 'x' }, 400)).toEqual([fx('x', 'small')]);
    expect(t.handle(level('x', 10), 500)).toEqual([]);
    expect(t.layerOf('x')).toBe('small');
    // e left and came back: a rejoiner starts over at the end of the order.
    t.handle(level('e', 10), 600);
    t.handle({ type: 'left', participant: 'e' }, 650);
    t.handle({ type: 'joined', participant: 'e' }, 660);
    expect(t.handle(level('e', 10), 760)).toEqual([]);
    expect(t.order().slice(-2)).toEqual(['x', 'e']);
  });

  it('ignores and counts garbage levels', () => {
    const { t } = tracker(SIX);
    for (const [i, l] of [-1, 128, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -0.5].entries()) {
      expect(t.handle(level('e', l), i * 150)).toEqual([]);
    }
    expect(t.ignoredLevels).toBe(6);
    expect(t.layerOf('e')).toBe('small');
    expect(t.audioForwarded('e', 800)).toBe(false);
    // The garbage did not count as a first loud level either: one valid level is not an onset.
    expect(t.handle(level('e', 10), 900)).toEqual([]);
  });

  it('refuses nonsensical parameters', () => {
    expect(() => new SpeakerTracker({ lastN: -1 })).toThrow(/lastN/);
    expect(() => new SpeakerTracker({ loudest: 1.5 })).toThrow(/loudest/);
    expect(() => new SpeakerTracker({ speakingAtOrBelow: 128 })).toThrow(/speakingAtOrBelow/);
    expect(() => new SpeakerTracker({ heldMs: Number.NaN })).toThrow(/heldMs/);
  });
});

describe('SpeakerTracker: audio forwarding', () => {
  it('forwards everyone in a small meeting, silence included', () => {
    const { t } = tracker(['a', 'b', 'c']);
    t.handle(level('a', SILENT), 0);
    expect(['a', 'b', 'c'].map((id) => t.audioForwarded(id, 10))).toEqual([true, true, true]);
  });

  it('forwards a speaker from its first loud level, and stops after heldMs of silence', () => {
    const { t } = tracker(SIX);
    for (const id of SIX) t.handle(level(id, SILENT), 0);
    expect(SIX.map((id) => t.audioForwarded(id, 0))).toEqual(SIX.map(() => false));
    t.handle(level('e', 40), 20);
    expect(t.audioForwarded('e', 20)).toBe(true); // first loud frame, small video layer or not
    expect(t.layerOf('e')).toBe('small');
    for (let ms = 40; ms <= 1020; ms += 20) t.handle(level('e', SILENT), ms);
    expect(t.audioForwarded('e', 1020)).toBe(true); // the tail of the word
    t.handle(level('e', SILENT), 1040);
    expect(t.audioForwarded('e', 1040)).toBe(false);
    // Background below the speech threshold is never forwarded.
    for (let ms = 1100; ms <= 2000; ms += 20) t.handle(level('f', 70), ms);
    expect(t.audioForwarded('f', 2000)).toBe(false);
  });

  for (const shape of ['header', 'report'] as const) {
    it(`forwards only the ${'loudest'} of more simultaneous speakers (${shape}-shaped levels)`, () => {
      const { t } = tracker(SIX);
      const loud: Record<string, number> = { a: 40, b: 10, c: 30, d: 20, e: 45 };
      const step = shape === 'header' ? 20 : 250;
      for (let ms = 0; ms <= 1000; ms += step)
        for (const [id, l] of Object.entries(loud)) t.handle(level(id, l), ms);
      const forwarded = () => SIX.filter((id) => t.audioForwarded(id, 1000));
      expect(forwarded()).toEqual(['b', 'c', 'd']);
      // b stops (headers say silence; reports just stop): after a while the next loudest, a, takes its place.
      for (let ms = 1000 + step; ms <= 2000; ms += step) {
        for (const [id, l] of Object.entries(loud)) {
          if (id !== 'b') t.handle(level(id, l), ms);
          else if (shape === 'header') t.handle(level(id, SILENT), ms);
        }
      }
      expect(SIX.filter((id) => t.audioForwarded(id, 2000))).toEqual(['a', 'c', 'd']);
    });
  }

  it('lets a new loud speaker in at its first level when there is room, and not when there is none', () => {
    const { t } = tracker(SIX, { loudest: 2 });
    for (let ms = 0; ms <= 500; ms += 20) t.handle(level('a', 20), ms);
    t.handle(level('b', 30), 500);
    expect(t.audioForwarded('b', 500)).toBe(true);
    t.handle(level('c', 45), 500);
    expect(t.audioForwarded('c', 500)).toBe(false); // two louder speakers hold both places
    t.handle(level('d', 5), 500);
    expect(t.audioForwarded('d', 500)).toBe(true); // louder than b: takes its place at once
    expect(t.audioForwarded('b', 500)).toBe(false);
  });
});

describe('SpeakerTracker: properties', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const event = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constantFrom(...ids).map((p): SpeakerEvent => ({ type: 'joined', participant: p })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...ids).map((p): SpeakerEvent => ({ type: 'left', participant: p })),
    },
    {
      weight: 12,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...ids, 'stranger'),
          fc.oneof(
            { weight: 8, arbitrary: fc.integer({ min: 0, max: 127 }) },
            { weight: 1, arbitrary: fc.constantFrom(-1, 128, 1.5, Number.NaN) },
          ),
        )
        .map(([p, l]): SpeakerEvent => ({ type: 'level', participant: p, level: l })),
    },
    { weight: 1, arbitrary: fc.constant<SpeakerEvent>({ type: 'tick' }) },
  );

  it('keeps at most lastN full in a big meeting, and its effects replay to its state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.tuple(event, fc.integer({ min: 0, max: 400 })), { maxLength: 300 }),
        (lastN, loudest, steps) => {
          const t = new SpeakerTracker({ lastN, loudest });
          const untick = new SpeakerTracker({ lastN, loudest }); // never sees a tick
          const replay = new Map<string, VideoLayer>();
          let now = 0;
          for (const [e, dt] of steps) {
            now += dt;
            const effects = t.handle(e, now);
            if (e.type === 'tick') expect(effects).toEqual([]);
            else expect(untick.handle(e, now)).toEqual(effects);
            if (e.type === 'joined' && !replay.has(e.participant)) replay.set(e.participant, 'full');
            if (e.type === 'left') replay.delete(e.participant);
            const touched = new Set<string>();
            for (const f of effects) {
              // Exactly the changes: one per participant, each a real change of someone present.
              expect(touched.has(f.participant)).toBe(false);
              touched.add(f.participant);
              expect(replay.has(f.participant)).toBe(true);
              expect(replay.get(f.participant)).not.toBe(f.layer);
              replay.set(f.participant, f.layer);
            }
            for (const id of [...ids, 'stranger']) expect(t.layerOf(id)).toBe(replay.get(id));
            const order = t.order();
            expect(order.length).toBe(replay.size);
            const full = order.filter((id) => t.layerOf(id) === 'full');
            const forwarded = order.filter((id) => t.audioForwarded(id, now));
            expect(forwarded).toEqual(order.filter((id) => untick.audioForwarded(id, now)));
            if (t.big) {
              expect(full).toEqual(order.slice(0, lastN));
              expect(forwarded.length).toBeLessThanOrEqual(loudest);
            } else {
              expect(full.length).toBe(order.length);
              expect(forwarded.length).toBe(order.length);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
