/**
 * One-to-one keys (docs/protocol.md "Direct messages"): two members make a pair through the relay
 * and read each other's sealed messages; a third member cannot; a relay that swaps a binding,
 * replays a hello or a reply, or forges a message gets nothing and breaks nothing but that pair.
 */
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { ScriptedRelay } from './harness.ts';

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

function meeting(ids: string[]): ScriptedRelay {
  const relay = new ScriptedRelay();
  for (const id of ids) relay.join(id);
  relay.pump();
  relay.advance(2500);
  return relay;
}

function request(relay: ScriptedRelay, from: string, peer: string): void {
  const p = relay.peers.get(from)!;
  relay.apply(p, p.session!.handle({ type: 'direct-request', peer }, relay.now));
  relay.pump();
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof RoomdError) return err.code;
    throw err;
  }
}

function rejected(relay: ScriptedRelay, id: string): string[] {
  return relay.peers
    .get(id)!
    .facts.flatMap((f) => (f.type === 'rejected' && f.what === 'message' ? [f.code] : []));
}

describe('one-to-one keys', () => {
  it('two members make a pair; each reads what the other sealed; a third reads nothing', () => {
    const relay = meeting(['a', 'b', 'c']);
    const a = relay.session('a').direct!;
    const b = relay.session('b').direct!;
    const c = relay.session('c').direct!;
    expect(a.ready('b')).toBe(false);
    request(relay, 'a', 'b');
    expect(a.ready('b')).toBe(true);
    expect(b.ready('a')).toBe(true);
    const toB = a.seal('b', text('for b only'));
    expect(read(b.open('a', toB))).toBe('for b only');
    expect(read(a.open('b', b.seal('a', text('and back'))))).toBe('and back');
    // c holds the meeting key but no pair with either: it opens nothing.
    expect(codeOf(() => c.open('a', toB))).toBe('e2ee.unknown_key');
    request(relay, 'c', 'a');
    expect(codeOf(() => c.open('a', toB))).toBe('e2ee.decrypt_failed');
    // Nor does a message sealed for b open as one from b, or to another direction.
    expect(codeOf(() => a.open('b', toB))).toBe('e2ee.decrypt_failed');
    // The relay carried no plaintext.
    expect(relay.carried.join('\n')).not.toContain('for b only');
  });

  it('crossed hellos still end in one pair both sides agree on', () => {
    const relay = meeting(['a', 'b']);
    const pa = relay.peers.get('a')!;
    const pb = relay.peers.get('b')!;
    relay.apply(pa, pa.session!.handle({ type: 'direct-request', peer: 'b' }, relay.now));
    relay.apply(pb, pb.session!.handle({ type: 'direct-request', peer: 'a' }, relay.now));
    relay.pump();
    const a = pa.session!.direct!;
    const b = pb.session!.direct!;
    expect(read(b.open('a', a.seal('b', text('x'))))).toBe('x');
    expect(read(a.open('b', b.seal('a', text('y'))))).toBe('y');
  });

  it('a relay that swaps in another binding of its own making is refused; no pair', () => {
    const relay = meeting(['a', 'b', 'm']);
    // The relay (with m's binding, signed by m) answers a's hello as if it were b.
    relay.intercept = (env) => {
      if (env.to === 'b' && (env.message as { t: string }).t === 'e2ee.direct-hello') {
        const m = relay.session('m');
        return [
          {
            from: 'b',
            to: 'a',
            message: {
              t: 'e2ee.direct-hello',
              v: 1,
              binding: m.binding,
              nonce: (env.message as { nonce: string }).nonce,
            },
          },
        ];
      }
      return [env];
    };
    request(relay, 'a', 'b');
    expect(relay.session('a').direct!.ready('b')).toBe(false);
    expect(rejected(relay, 'a')).toContain('e2ee.unexpected');
  });

  it('a replayed hello is answered once; a replayed or unasked reply is refused', () => {
    const relay = meeting(['a', 'b']);
    const seen: { from: string; to: string; message: unknown }[] = [];
    relay.intercept = (env) => {
      seen.push(env);
      return [env];
    };
    request(relay, 'a', 'b');
    const hello = seen.find((e) => (e.message as { t: string }).t === 'e2ee.direct-hello')!;
    const reply = seen.find((e) => (e.message as { t: string }).t === 'e2ee.direct-reply')!;
    const sealed = relay.session('a').direct!.seal('b', text('before'));
    relay.deliver(hello);
    relay.deliver(reply);
    expect(rejected(relay, 'b')).toContain('e2ee.replay');
    expect(rejected(relay, 'a')).toContain('e2ee.unexpected');
    // The pair still works: neither replay changed a key.
    expect(read(relay.session('b').direct!.open('a', sealed))).toBe('before');
  });

  it('a forged or altered message does not open', () => {
    const relay = meeting(['a', 'b']);
    request(relay, 'a', 'b');
    const sealed = relay.session('a').direct!.seal('b', text('hello'));
    const box = Buffer.from(sealed.box, 'base64url');
    box[0] = (box[0] ?? 0) ^ 1;
    const b = relay.session('b').direct!;
    expect(codeOf(() => b.open('a', { iv: sealed.iv, box: box.toString('base64url') }))).toBe(
      'e2ee.decrypt_failed',
    );
    expect(codeOf(() => b.open('a', { iv: 'AAAA', box: sealed.box }))).toBe('e2ee.decrypt_failed');
    expect(codeOf(() => b.open('a', { iv: '***', box: sealed.box }))).toBe('e2ee.decrypt_failed');
  });

  it('a member who leaves loses the pair; one who joins again needs a new one', () => {
    const relay = meeting(['a', 'b', 'c']);
    request(relay, 'a', 'b');
    relay.leave('b');
    relay.advance(3000);
    expect(relay.session('a').direct!.ready('b')).toBe(false);
    expect(codeOf(() => relay.session('a').direct!.seal('b', text('gone')))).toBe('e2ee.unknown_key');
  });

  it('no pair with someone who is not a keyed member, or with oneself', () => {
    const relay = meeting(['a', 'b']);
    relay.join('phone', { e2ee: false, session: false, client: 'phone' });
    relay.pump();
    relay.advance(2500);
    const pa = relay.peers.get('a')!;
    for (const peer of ['phone', 'a', 'nobody']) {
      expect(
        pa.session!.handle({ type: 'direct-request', peer }, relay.now).filter((e) => e.type === 'send'),
      ).toEqual([]);
    }
  });

  it('enhanced meetings have no one-to-one keys', () => {
    const relay = new ScriptedRelay('mtg-1', 'inst-1', 'enhanced');
    relay.join('a');
    expect(relay.session('a').direct).toBeNull();
  });
});
