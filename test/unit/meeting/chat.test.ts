/**
 * Meeting chat (docs/protocol.md "# Chat"), pure: several ChatChannels joined by an in-memory `data`
 * stream that carries every payload to every other member (as the relay does with `data` frames),
 * with one-to-one keys from real E2EE sessions (the ScriptedRelay harness), so a third member really
 * cannot open another pair's box. Time is the test's: `advance` ticks every channel like the link does.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHAT_HISTORY,
  ChatChannel,
  type ChatMember,
  MAX_CHAT_TEXT_BYTES,
  validChatText,
} from '../../../src/meeting/chat.ts';
import { type DataMessage, encodeDataMessage, parseDataMessage } from '../../../src/meeting/data-message.ts';
import { ScriptedRelay } from '../e2ee/harness.ts';

interface Carried {
  from: string;
  at: number;
  bytes: Uint8Array;
  msg: DataMessage;
}

/** A meeting of chat channels on one in-memory data stream. */
class Net {
  /** Monotonic ms, as the link passes to `receive` and `tick`. */
  t = 0;
  wall = 1_767_225_600_000;
  readonly e2ee = new ScriptedRelay();
  readonly chats = new Map<string, ChatChannel>();
  readonly present = new Set<string>();
  readonly unkeyed = new Set<string>();
  /** Members reconnecting: they see only themselves, without a key. */
  readonly cutOff = new Set<string>();
  readonly queue: Carried[] = [];
  /** Everything put on the stream, in order. */
  readonly wire: Carried[] = [];
  /** Return true to lose this payload on its way to `to`. */
  drop: (c: Carried, to: string) => boolean = () => false;
  /** Payloads lost by `drop`, per receiver, for a test to deliver later (reordering). */
  readonly dropped: { c: Carried; to: string }[] = [];

  constructor(ids: string[]) {
    for (const id of ids) {
      this.e2ee.join(id);
      this.present.add(id);
      this.chats.set(id, new ChatChannel(this.#port(id)));
    }
    this.e2ee.pump();
    this.e2ee.advance(2500);
  }

  chat(id: string): ChatChannel {
    return this.chats.get(id)!;
  }

  texts(id: string): string[] {
    return this.chat(id).messages.map((m) => m.text);
  }

  send(from: string, text: string, to = 'all') {
    return this.chat(from).send(text, to, this.t, this.wall + this.t);
  }

  /** Carry what is queued (and what that causes: acks) until the stream is quiet. */
  deliver(): void {
    while (this.queue.length > 0) {
      const c = this.queue.shift()!;
      for (const to of [...this.present]) {
        if (to === c.from) continue;
        if (this.drop(c, to)) this.dropped.push({ c, to });
        else this.inject(to, c.from, c.bytes);
      }
    }
  }

  /** Hand `bytes` to `to` as a data frame from `from` (what the frame's key proved). */
  inject(to: string, from: string, bytes: Uint8Array): void {
    const msg = parseDataMessage(bytes);
    if (msg !== null) this.chat(to).receive(from, msg, this.t);
  }

  /** Let `ms` pass in `step` ms steps, ticking every channel and carrying what it sends. */
  advance(ms: number, step = 250): void {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + step);
      for (const id of this.present) this.chat(id).tick(this.t);
      this.deliver();
    }
  }

  leave(id: string): void {
    this.present.delete(id);
    this.e2ee.leave(id);
    this.e2ee.pump();
  }

  /** Chat messages (not acks) `from` put on the stream with this id. */
  copies(from: string, id: string): Carried[] {
    return this.wire.filter((c) => c.from === from && c.msg.type === 'chat' && c.msg['id'] === id);
  }

  acks(from: string, id: string): number {
    return this.wire.filter(
      (c) => c.from === from && c.msg.type === 'chat-ack' && (c.msg['ids'] as string[]).includes(id),
    ).length;
  }

  #port(id: string) {
    return {
      send: (bytes: Uint8Array) => {
        const c = { from: id, at: this.t, bytes: bytes.slice(), msg: parseDataMessage(bytes)! };
        expect(c.msg, 'every payload a channel sends is a data message').not.toBeNull();
        this.queue.push(c);
        this.wire.push(c);
        return true;
      },
      direct: () => this.e2ee.peers.get(id)?.session?.direct ?? null,
      requestDirect: (peer: string) => {
        const p = this.e2ee.peers.get(id)!;
        this.e2ee.apply(p, p.session!.handle({ type: 'direct-request', peer }, this.e2ee.now));
        this.e2ee.pump();
      },
      members: (): ChatMember[] =>
        (this.cutOff.has(id) ? [id] : [...this.present]).map((m) => ({
          id: m,
          name: `Name ${m}`,
          keyed: !this.unkeyed.has(m) && !this.cutOff.has(m),
          self: m === id,
        })),
      random: (n: number) => new Uint8Array(randomBytes(n)),
      privateMessages: () => true,
    };
  }
}

const sent = (r: ReturnType<Net['send']>): string => {
  if (!r.ok) throw new Error(`send failed: ${r.code}`);
  return r.id;
};

describe('group chat', () => {
  it('reaches every member once, in order; acknowledgements settle delivered; nothing is resent', () => {
    const net = new Net(['a', 'b', 'c']);
    const ids = ['one', 'two', 'three'].map((t) => sent(net.send('a', t)));
    expect(net.chat('a').messages.map((m) => [m.text, m.mine, m.delivered])).toEqual([
      ['one', true, false],
      ['two', true, false],
      ['three', true, false],
    ]);
    net.deliver();
    for (const who of ['b', 'c']) {
      expect(net.texts(who)).toEqual(['one', 'two', 'three']);
      const first = net.chat(who).messages[0]!;
      expect(first).toMatchObject({ id: ids[0], from: 'a', fromName: 'Name a', to: 'all', mine: false });
      expect(first.at).toBe(net.wall);
      for (const id of ids) expect(net.acks(who, id)).toBe(1);
    }
    expect(net.chat('a').messages.every((m) => m.delivered)).toBe(true);
    expect(net.texts('a')).toEqual(['one', 'two', 'three']);
    net.advance(10_000);
    for (const id of ids) expect(net.copies('a', id)).toHaveLength(1);
    expect([...net.chats.values()].map((c) => c.refused + c.givenUp)).toEqual([0, 0, 0]);
  });

  it('shows reordered arrivals in order', () => {
    const net = new Net(['a', 'b']);
    sent(net.send('a', 'm0'));
    net.deliver();
    net.drop = (c) => c.from === 'a';
    for (const t of ['m1', 'm2', 'm3']) sent(net.send('a', t));
    net.deliver();
    net.drop = () => false;
    const [m1, m2, m3] = net.dropped.map((d) => d.c.bytes);
    net.inject('b', 'a', m3!);
    net.inject('b', 'a', m1!);
    expect(net.texts('b')).toEqual(['m0', 'm1']);
    net.inject('b', 'a', m2!);
    expect(net.texts('b')).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('a conversation whose first messages cross is not missing one (acknowledged means shown)', () => {
    const net = new Net(['a', 'b']);
    net.drop = (c) => c.from === 'a';
    sent(net.send('a', 'first'));
    sent(net.send('a', 'second'));
    net.deliver();
    net.drop = () => false;
    net.inject('b', 'a', net.dropped[1]!.c.bytes);
    net.inject('b', 'a', net.dropped[0]!.c.bytes);
    net.deliver();
    expect(new Set(net.texts('b'))).toEqual(new Set(['first', 'second']));
    expect(net.chat('a').messages.every((m) => m.delivered)).toBe(true);
  });

  it('holds a message behind a gap, then shows it after 5 s; the missing one shows when it comes', () => {
    const net = new Net(['a', 'b']);
    net.drop = (c) => c.msg['text'] === 'm1';
    const [, id1] = ['m0', 'm1', 'm2'].map((t) => {
      const id = sent(net.send('a', t));
      net.deliver();
      return id;
    });
    expect(net.texts('b')).toEqual(['m0']);
    net.advance(4750);
    expect(net.texts('b')).toEqual(['m0']);
    net.advance(500);
    expect(net.texts('b')).toEqual(['m0', 'm2']);
    // m1 was resent every 3 s all along; once it gets through it is shown and acknowledged.
    expect(net.copies('a', id1!).length).toBeGreaterThanOrEqual(2);
    net.drop = () => false;
    net.advance(3000);
    expect(net.texts('b')).toEqual(['m0', 'm2', 'm1']);
    expect(net.chat('a').messages.every((m) => m.delivered)).toBe(true);
  });

  it('shows a resent message once and acknowledges every copy', () => {
    const net = new Net(['a', 'b']);
    net.drop = (c) => c.msg.type === 'chat-ack';
    const id = sent(net.send('a', 'hello'));
    net.advance(6500);
    expect(net.copies('a', id)).toHaveLength(3);
    expect(net.acks('b', id)).toBe(3);
    expect(net.texts('b')).toEqual(['hello']);
    expect(net.chat('a').messages[0]!.delivered).toBe(false);
    net.drop = () => false;
    net.advance(3000);
    expect(net.chat('a').messages[0]!.delivered).toBe(true);
    expect(net.texts('b')).toEqual(['hello']);
    expect(net.chat('b').refused).toBe(0);
  });

  it('resends every 3 s to a member that never acknowledges, and gives up (not delivered) when it leaves', () => {
    const net = new Net(['a', 'b', 'c']);
    net.drop = (_c, to) => to === 'c';
    const id = sent(net.send('a', 'are you there?'));
    net.advance(10_000);
    const times = net.copies('a', id).map((c) => c.at);
    expect(times).toEqual([0, 3000, 6000, 9000]);
    expect(net.acks('b', id)).toBe(4);
    expect(net.chat('a').messages[0]!.delivered).toBe(false);
    net.leave('c');
    net.advance(1000);
    expect(net.chat('a').givenUp).toBe(1);
    expect(net.chat('a').messages[0]!.delivered).toBe(false);
    net.advance(10_000);
    expect(net.copies('a', id)).toHaveLength(4);
  });

  it('keeps what waits while we are cut off (reconnecting) and resends it once we are back', () => {
    const net = new Net(['a', 'b', 'c']);
    net.drop = (c) => c.from === 'a';
    const id = sent(net.send('a', 'said before the cut'));
    net.cutOff.add('a');
    net.advance(10_000);
    expect(net.copies('a', id)).toHaveLength(1);
    expect(net.chat('a').givenUp).toBe(0);
    net.cutOff.delete('a');
    net.drop = () => false;
    net.advance(1000);
    expect(net.texts('b')).toEqual(['said before the cut']);
    expect(net.texts('c')).toEqual(['said before the cut']);
    expect(net.chat('a').messages[0]!.delivered).toBe(true);
  });

  it('history keeps the newest 200; the outbox keeps the newest 64 waiting messages', () => {
    const net = new Net(['a', 'b']);
    for (let i = 0; i < CHAT_HISTORY + 50; i++) {
      sent(net.send('a', `n${i}`));
      net.deliver();
    }
    for (const who of ['a', 'b']) {
      expect(net.chat(who).messages).toHaveLength(CHAT_HISTORY);
      expect(net.texts(who)[0]).toBe('n50');
      expect(net.texts(who).at(-1)).toBe(`n${CHAT_HISTORY + 49}`);
    }
    net.drop = () => true;
    const ids = Array.from({ length: 70 }, (_, i) => sent(net.send('a', `w${i}`)));
    expect(net.chat('a').givenUp).toBe(6);
    net.advance(3000);
    const resent = new Set(net.wire.filter((c) => c.at === 3000).map((c) => c.msg['id']));
    expect(resent).toEqual(new Set(ids.slice(6)));
  });
});

describe('one-to-one chat', () => {
  it('only the recipient reads it; the third member shows and counts nothing; replies work', () => {
    const net = new Net(['a', 'b', 'c']);
    const id = sent(net.send('a', 'secret for b', 'b'));
    net.advance(1000);
    expect(net.texts('b')).toEqual(['secret for b']);
    expect(net.chat('b').messages[0]).toMatchObject({ id, from: 'a', to: 'b', toName: 'Name b' });
    expect(net.chat('a').messages[0]).toMatchObject({ to: 'b', toName: 'Name b', delivered: true });
    expect(net.texts('c')).toEqual([]);
    expect(net.chat('c').refused).toBe(0);
    // It went past c (every member gets every data frame), sealed.
    const copies = net.copies('a', id);
    expect(copies).toHaveLength(1);
    const plain = Buffer.from('secret for b');
    for (const c of net.wire) expect(Buffer.from(c.bytes).includes(plain)).toBe(false);
    expect(copies[0]!.msg['sealed']).toMatchObject({ iv: expect.any(String), box: expect.any(String) });

    sent(net.send('b', 'and back to a', 'a'));
    net.advance(1000);
    expect(net.texts('a')).toEqual(['secret for b', 'and back to a']);
    expect(net.texts('c')).toEqual([]);
    expect(net.chat('b').messages.every((m) => m.delivered)).toBe(true);
    expect([...net.chats.values()].map((c) => c.refused)).toEqual([0, 0, 0]);
  });

  it('a box re-labelled with another id or number, or re-sent as another sender, is refused', () => {
    const net = new Net(['a', 'b', 'c']);
    sent(net.send('a', 'for b', 'b'));
    net.advance(1000);
    const original = net.wire.find((c) => c.from === 'a' && c.msg.type === 'chat')!.msg;
    const acksBefore = net.wire.filter((c) => c.from === 'b' && c.msg.type === 'chat-ack').length;
    // c forges frames as a (any member holds the meeting key) carrying a's sealed box.
    net.inject('b', 'a', encodeDataMessage({ ...original, id: 'AAAAAAAAAAAA' }));
    net.inject('b', 'a', encodeDataMessage({ ...original, id: 'AAAAAAAAAAAB', seq: 1 }));
    net.inject('b', 'a', encodeDataMessage({ ...original, seq: 5 }));
    expect(net.chat('b').refused).toBe(3);
    // c sends it as its own (it holds a pair with b): does not open under the c↔b key.
    net.send('c', 'hi b', 'b');
    net.advance(1000);
    net.inject('b', 'c', encodeDataMessage({ ...original, seq: 1 }));
    expect(net.chat('b').refused).toBe(4);
    expect(net.texts('b')).toEqual(['for b', 'hi b']);
    net.deliver();
    const acksAfter = net.wire.filter((c) => c.from === 'b' && c.msg.type === 'chat-ack').length;
    expect(acksAfter - acksBefore).toBe(1); // c's real message only
    // The unchanged box again is a repeat: acknowledged, shown once.
    net.inject('b', 'a', encodeDataMessage({ ...original }));
    expect(net.texts('b')).toEqual(['for b', 'hi b']);
    expect(net.chat('b').refused).toBe(4);
  });
});

describe('sending', () => {
  it('refuses invalid text with meeting.chat_invalid and sends nothing', () => {
    const net = new Net(['a', 'b']);
    for (const bad of [
      '',
      'x'.repeat(MAX_CHAT_TEXT_BYTES + 1),
      'é'.repeat(501),
      'bell\u0007',
      'tab\there',
      'nul\u0000',
      'cr\r',
      'del\u007f',
      'esc\u001b[31m',
    ]) {
      expect(net.send('a', bad)).toEqual({ ok: false, code: 'meeting.chat_invalid' });
      expect(net.send('a', bad, 'b')).toEqual({ ok: false, code: 'meeting.chat_invalid' });
    }
    expect(net.wire).toHaveLength(0);
    expect(net.chat('a').messages).toHaveLength(0);
    for (const good of ['x'.repeat(MAX_CHAT_TEXT_BYTES), 'é'.repeat(500), 'two\nlines']) {
      expect(net.send('a', good).ok).toBe(true);
    }
  });

  it('refuses unknown recipients and says not ready until we are keyed', () => {
    const net = new Net(['a', 'b', 'c']);
    net.unkeyed.add('c');
    for (const to of ['nobody', 'a', 'c', ''])
      expect(net.send('a', 'hi', to)).toEqual({ ok: false, code: 'meeting.chat_unknown_recipient' });
    net.unkeyed.add('a');
    expect(net.send('a', 'hi')).toEqual({ ok: false, code: 'meeting.chat_not_ready' });
    expect(net.send('a', 'hi', 'b')).toEqual({ ok: false, code: 'meeting.chat_not_ready' });
    net.present.delete('a');
    expect(net.send('a', 'hi')).toEqual({ ok: false, code: 'meeting.chat_not_ready' });
    expect(net.wire).toHaveLength(0);
  });

  it('a one-to-one message waits for the pair key and goes out once it is made', () => {
    const net = new Net(['a', 'b']);
    const id = sent(net.send('a', 'soon', 'b'));
    expect(net.copies('a', id)).toHaveLength(0);
    expect(net.e2ee.session('a').direct!.ready('b')).toBe(true);
    net.advance(500);
    expect(net.copies('a', id)).toHaveLength(1);
    expect(net.texts('b')).toEqual(['soon']);
  });
});

describe('malformed input', () => {
  const chat = (o: Record<string, unknown>) => ({
    v: 1,
    type: 'chat',
    id: 'abc',
    seq: 0,
    to: 'all',
    at: 1,
    text: 'ok',
    ...o,
  });

  it('is counted in refused, never thrown, never shown', () => {
    const net = new Net(['a', 'b']);
    const b = net.chat('b');
    const bad: string[] = [
      JSON.stringify(chat({ id: 7 })),
      JSON.stringify(chat({ id: 'x'.repeat(65) })),
      JSON.stringify(chat({ seq: -1 })),
      JSON.stringify(chat({ seq: 1.5 })),
      JSON.stringify(chat({ seq: '1' })),
      JSON.stringify(chat({ seq: 2 ** 60 })),
      JSON.stringify(chat({ to: 5 })),
      JSON.stringify(chat({ at: '1' })),
      JSON.stringify(chat({ at: null })),
      JSON.stringify(chat({ text: 5 })),
      JSON.stringify(chat({ text: '' })),
      JSON.stringify(chat({ text: 'a\u0007' })),
      JSON.stringify(chat({ text: undefined })),
      JSON.stringify(chat({ to: 'b', text: undefined, sealed: { iv: 1, box: 'x' } })),
      JSON.stringify(chat({ to: 'b', text: undefined, sealed: 'nope' })),
      JSON.stringify(chat({ to: 'b', text: undefined, sealed: { iv: '!!', box: '??' } })),
      '{"v":1,"type":"chat","id":"n","seq":0,"to":"all","at":1e999,"text":"inf"}',
      JSON.stringify({ v: 1, type: 'chat-ack', to: 'a', ids: Array.from({ length: 17 }, (_, i) => `i${i}`) }),
      JSON.stringify({ v: 1, type: 'chat-ack', to: 'a', ids: 'abc' }),
      JSON.stringify({ v: 1, type: 'chat-ack', to: 'a', ids: [1] }),
      JSON.stringify({ v: 1, type: 'chat-ack', to: 'a' }),
    ];
    // b has a pair with a, so the sealed ones reach the opening step.
    net.send('a', 'pair', 'b');
    net.advance(1000);
    const before = b.refused;
    for (const [i, s] of bad.entries()) {
      expect(() => net.inject('b', 'a', new TextEncoder().encode(s))).not.toThrow();
      expect(b.refused, s).toBe(before + i + 1);
    }
    expect(net.texts('b')).toEqual(['pair']);
    // 16 ids is the most an acknowledgement carries, and is fine.
    net.inject('b', 'a', encodeDataMessage({ type: 'chat-ack', to: 'b', ids: Array(16).fill('z') }));
    expect(b.refused).toBe(before + bad.length);
  });

  it('random messages of the chat types never throw', () => {
    const net = new Net(['a', 'b']);
    const b = net.chat('b');
    const value = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 20 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('chat', 'chat-ack'),
        fc.record(
          {
            id: value,
            seq: value,
            to: fc.oneof(value, fc.constantFrom('all', 'a', 'b')),
            at: value,
            text: value,
          },
          { requiredKeys: [] },
        ),
        fc.dictionary(fc.constantFrom('iv', 'box'), value),
        fc.oneof(value, fc.array(value, { maxLength: 20 })),
        (type, fields, sealed, ids) => {
          const msg = { v: 1, type, ...fields, sealed, ids } as DataMessage;
          b.receive('a', msg, net.t);
          b.tick(net.t);
        },
      ),
      { numRuns: 3000 },
    );
    expect(b.refused).toBeGreaterThan(0);
    expect(b.messages.length).toBeLessThanOrEqual(CHAT_HISTORY);
  });
});

describe('chat text and private messages', () => {
  it('refuses C1 controls and bidirectional overrides that could disguise a message', () => {
    expect(validChatText('Meet in room 4 \u{1F44D}\nthanks')).toBe(true);
    for (const bad of ['a\u0085b', 'pay \u202Eevil', 'x\u2066y\u2069', 'tab\there', 'cr\r'])
      expect(validChatText(bad)).toBe(false);
  });

  it('an enhanced meeting refuses a private message (nothing would keep it private) and sends group ones', () => {
    const sent: Uint8Array[] = [];
    const ch = new ChatChannel({
      send: (p) => {
        sent.push(p);
        return true;
      },
      direct: () => null,
      requestDirect: () => {},
      members: () => [
        { id: 'room', name: 'Room', keyed: true, self: true },
        { id: 'p', name: 'P', keyed: true, self: false },
      ],
      random: (n) => new Uint8Array(n),
      privateMessages: () => false,
    });
    expect(ch.send('just you', 'p', 0, 1)).toEqual({ ok: false, code: 'meeting.chat_no_private' });
    expect(sent).toHaveLength(0);
    expect(ch.send('everyone', 'all', 0, 1)).toMatchObject({ ok: true });
    expect(parseDataMessage(sent[0]!)).toMatchObject({ type: 'chat', to: 'all', text: 'everyone' });
  });
});

describe('chat times', () => {
  it('refuses a sender time that no clock shows: fractional, negative or past the last Date', () => {
    const ch = new ChatChannel({
      send: () => true,
      direct: () => null,
      requestDirect: () => {},
      members: () => [
        { id: 'room', name: 'Room', keyed: true, self: true },
        { id: 'p', name: 'P', keyed: true, self: false },
      ],
      random: (n) => new Uint8Array(n),
      privateMessages: () => true,
    });
    const msg = (seq: number, at: number) =>
      parseDataMessage(encodeDataMessage({ type: 'chat', id: `m${seq}`, seq, to: 'all', at, text: 'hi' }))!;
    for (const [i, at] of [1.5, -1, 9e15].entries()) ch.receive('p', msg(i, at), 0);
    expect(ch.refused).toBe(3);
    ch.receive('p', msg(3, 1_764_000_000_000), 0);
    expect(ch.messages.map((m) => m.at)).toEqual([1_764_000_000_000]);
  });
});
