/**
 * Chat messages (src/meeting/chat.ts, docs/protocol.md "# Chat"): the opened `data` frames another
 * member sends, through parseDataMessage and ChatChannel.receive. Nothing throws; invariants: every
 * message shown has valid text, was shown once, and the history and acknowledgements stay bounded.
 */
import fc from 'fast-check';
import type { DirectCrypto } from '../../src/e2ee/index.ts';
import { CHAT_HISTORY, ChatChannel, validChatText } from '../../src/meeting/chat.ts';
import { parseDataMessage } from '../../src/meeting/data-message.ts';
import { mutatedBytes, mutatedJsonText } from '../lib/mutate.ts';
import { type FuzzTarget, invariant } from '../lib/target.ts';

type Input = readonly Uint8Array[];

const SEEDS: unknown[] = [
  { v: 1, type: 'chat', id: 'a1', seq: 0, to: 'all', at: 1_764_000_000_000, text: 'hello' },
  { v: 1, type: 'chat', id: 'a2', seq: 1, to: 'room', at: 1, sealed: { iv: 'AAAA', box: 'BBBB' } },
  { v: 1, type: 'chat-ack', to: 'room', ids: ['a1', 'a2'] },
];

/** A pair key that never opens: what a third member's channel sees of a one-to-one message. */
const NO_PAIR: DirectCrypto = {
  ready: () => false,
  seal: () => ({ iv: '', box: '' }),
  open: () => new Uint8Array(0),
};

export const chat: FuzzTarget<Input> = {
  name: 'chat',
  about: 'src/meeting/chat.ts ChatChannel.receive of opened data frames: shown, ignored or counted',
  arbitrary: () => {
    const utf8 = (t: string) => new Uint8Array(Buffer.from(t, 'utf8'));
    const seedBytes = SEEDS.map((s) => utf8(JSON.stringify(s)));
    const one = fc.oneof(
      { weight: 5, arbitrary: mutatedJsonText(SEEDS).map(utf8) },
      { weight: 2, arbitrary: mutatedBytes(seedBytes, { maxLength: 5000 }) },
    );
    return fc.array(one, { minLength: 1, maxLength: 12 });
  },
  run(input) {
    let acks = 0;
    const channel = new ChatChannel({
      send: () => {
        acks++;
        return true;
      },
      direct: () => NO_PAIR,
      requestDirect: () => {},
      members: () => [
        { id: 'room', name: 'Room', keyed: true, self: true },
        { id: 'peer', name: 'Peer', keyed: true, self: false },
      ],
      random: (n) => new Uint8Array(n),
      privateMessages: () => true,
    });
    let now = 0;
    for (const bytes of input) {
      const msg = parseDataMessage(bytes);
      if (msg !== null) channel.receive('peer', msg, now);
      now += 1000;
      channel.tick(now);
    }
    const shown = channel.messages;
    invariant(shown.length <= CHAT_HISTORY, 'the history outgrew its bound');
    invariant(new Set(shown.map((m) => m.id)).size === shown.length, 'a message was shown twice');
    for (const m of shown) {
      invariant(validChatText(m.text), 'a message with invalid text was shown');
      invariant(m.to === 'all', 'a one-to-one message opened without a pair key');
    }
    invariant(acks <= input.length, 'more acknowledgements than messages');
  },
  fromBytes: (bytes) => [bytes],
  seeds: () => {
    const utf8 = (t: string) => new Uint8Array(Buffer.from(t, 'utf8'));
    return [
      { note: 'group message', input: [utf8(JSON.stringify(SEEDS[0]))] },
      { note: 'sealed for us, no pair', input: [utf8(JSON.stringify(SEEDS[1]))] },
      {
        note: 'text with a control character',
        input: [utf8('{"v":1,"type":"chat","id":"x","seq":0,"to":"all","at":1,"text":"a\\u0007"}')],
      },
      {
        note: 'seq out of order',
        input: [
          utf8('{"v":1,"type":"chat","id":"x","seq":5,"to":"all","at":1,"text":"b"}'),
          utf8('{"v":1,"type":"chat","id":"y","seq":4,"to":"all","at":1,"text":"a"}'),
        ],
      },
      {
        note: 'ack flood',
        input: [utf8(`{"v":1,"type":"chat-ack","to":"room","ids":[${'"a",'.repeat(40)}"a"]}`)],
      },
    ];
  },
};
