/**
 * ViscaSession on the fake clock, without a line: a burst of Network Change messages
 * (`z0 38 FF`, "the address must be re-set when this message is received", EVI-D70 Technical
 * Manual, VISCA Device Setting Command) runs one setup at a time and at most one more after it
 * (docs/hardware.md §PTZ camera).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../src/core/clock.ts';
import type { RoomdError } from '../../../../src/core/errors.ts';
import { ViscaSession } from '../../../../src/devices/camera/visca-session.ts';

const text = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const ADDRESS_SET = '88 30 01 ff';
const IF_CLEAR = '88 01 00 01 ff';
const VERSION_INQ = '81 09 00 02 ff';
const NETWORK_CHANGE = { kind: 'network-change', address: 1 } as const;

function session() {
  const clock = new FakeClock();
  const sent: string[] = [];
  const s = new ViscaSession({
    clock,
    identify: true,
    write: async (b) => {
      sent.push(text(b));
    },
  });
  const ready: number[] = [];
  s.on('ready', ({ chain }) => ready.push(chain));
  /** The camera's answers to the three setup steps. */
  const answerSetup = () => {
    s.receive({ kind: 'address-set', next: 2 });
    s.receive({ kind: 'if-clear' });
    s.receive({ kind: 'completion', address: 1, socket: 0, data: [0, 1, 5, 1, 1, 0x20, 2] });
  };
  return { clock, sent, s, ready, answerSetup };
}

describe('ViscaSession: Network Change bursts', () => {
  it('a burst during a setup makes one more setup after it, not a restart per message', async () => {
    const t = session();
    t.s.setup();
    t.answerSetup();
    expect(t.ready).toEqual([1]);
    // A command in flight (ACKed on socket 1) when the chain changes.
    const home = t.s.execute({ kind: 'pan-tilt-home' }).catch((e: RoomdError) => e);
    t.s.receive({ kind: 'ack', address: 1, socket: 1 });
    expect(t.s.inFlight).toBe(1);
    t.sent.length = 0;

    t.s.receive(NETWORK_CHANGE);
    expect(await home).toMatchObject({ code: 'device.protocol_error' });
    expect(t.sent).toEqual([ADDRESS_SET]);
    // Queued meanwhile: waits for the setups, is not cancelled by them.
    const power = t.s.execute({ kind: 'inquiry', what: 'power' });
    for (let i = 0; i < 5; i++) t.s.receive(NETWORK_CHANGE);
    t.clock.advance(200);
    // Still the first setup's one Address Set: the burst did not restart it.
    expect(t.sent).toEqual([ADDRESS_SET]);
    expect(t.s.counters.networkChanges).toBe(6);

    t.s.receive({ kind: 'address-set', next: 2 });
    t.s.receive({ kind: 'if-clear' });
    expect(t.sent).toEqual([ADDRESS_SET, IF_CLEAR, VERSION_INQ]);
    t.s.receive({ kind: 'completion', address: 1, socket: 0, data: [0, 1, 5, 1, 1, 0x20, 2] });
    // The burst queued exactly one more setup; the queued inquiry waits for it.
    expect(t.sent).toEqual([ADDRESS_SET, IF_CLEAR, VERSION_INQ, ADDRESS_SET]);
    expect(t.ready).toEqual([1]);
    expect(t.s.health).toBe('recovering');
    t.answerSetup();
    expect(t.ready).toEqual([1, 1]);
    expect(t.sent.at(-1)).toBe('81 09 04 00 ff');
    t.s.receive({ kind: 'completion', address: 1, socket: 0, data: [2] });
    expect(await power).toEqual([2]);
    expect(t.s.health).toBe('ok');
    // First setup, the Network Change's, and the one the burst queued.
    expect(t.s.counters.recoveries).toBe(3);
  });

  it('one Network Change is one setup; a later one (after the setup) is another', () => {
    const t = session();
    t.s.setup();
    t.answerSetup();
    t.sent.length = 0;
    t.s.receive(NETWORK_CHANGE);
    t.answerSetup();
    expect(t.sent).toEqual([ADDRESS_SET, IF_CLEAR, VERSION_INQ]);
    t.s.receive(NETWORK_CHANGE);
    t.answerSetup();
    expect(t.sent).toHaveLength(6);
    expect(t.ready).toEqual([1, 1, 1]);
  });

  it('a queued setup still runs when the one before it times out', () => {
    const t = session();
    t.s.setup();
    t.s.receive(NETWORK_CHANGE);
    t.clock.advance(1000);
    // Address Set unanswered: unresponsive, then the queued setup asks again.
    expect(t.sent).toEqual([ADDRESS_SET, ADDRESS_SET]);
    t.answerSetup();
    expect(t.s.health).toBe('ok');
    expect(t.ready).toEqual([1]);
  });

  it('closing the line drops a queued setup', () => {
    const t = session();
    t.s.setup();
    t.s.receive(NETWORK_CHANGE);
    t.s.abort('disconnected');
    t.clock.advance(5000);
    expect(t.sent).toEqual([ADDRESS_SET]);
  });
});
