// The worker's side of the pipe (docs/decisions/0013-media-worker.md): it trusts roomd no more than
// roomd trusts it — malformed frames are counted and dropped, unknown ids are stale, a broken stream
// stops the worker, and stopping closes every connection it holds.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { WorkerHost } from '../../../src/transport/worker-host.ts';
import {
  decodeFromWorker,
  encodeToWorker,
  type FromWorker,
  FrameReader,
} from '../../../src/transport/worker-protocol.ts';

function setup() {
  const net = new FakePeerNetwork();
  const out: FromWorker[] = [];
  const reader = new FrameReader();
  const exits: number[] = [];
  const host = new WorkerHost({
    peers: net,
    clock: new FakeClock(),
    pid: 42,
    memory: () => 1234,
    write: (frame) => {
      for (const body of reader.push(frame).bodies) {
        const d = decodeFromWorker(body);
        if (!d.ok) throw d.error;
        out.push(d.message);
      }
    },
    exit: (code) => exits.push(code),
  });
  host.start();
  return { net, out, exits, host };
}

const raw = (body: number[]) => {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(body.length);
  b.set(body, 4);
  return b;
};

describe('WorkerHost', () => {
  it('says ready, answers pings, and counts malformed frames from roomd without stopping', () => {
    const { out, host, exits } = setup();
    expect(out[0]).toEqual({ type: 'ready', pid: 42 });
    host.receive(raw([1, 200])); // unknown kind
    host.receive(raw([2, 7, 0x7b, 0x7d])); // another version
    host.receive(raw([1, 7, ...Buffer.from('{"n":0}')])); // ping 0 is out of range
    host.receive(raw([1, 64, ...Buffer.from('{"pid":1}')])); // one of the worker's own kinds
    host.receive(encodeToWorker({ type: 'ping', n: 3 }));
    expect(host.counters.invalid).toBe(4);
    expect(out.at(-1)).toEqual({ type: 'pong', n: 3, pcs: 0, channels: 0, invalid: 4, rssBytes: 1234 });
    expect(exits).toEqual([]);
  });

  it('counts frames about unknown connections and channels as stale, and refuses a reused id', () => {
    const { out, host } = setup();
    host.receive(encodeToWorker({ type: 'send', ch: 9, data: new Uint8Array(3) }));
    host.receive(encodeToWorker({ type: 'close-pc', pc: 9 }));
    host.receive(encodeToWorker({ type: 'close-channel', ch: -9 }));
    host.receive(encodeToWorker({ type: 'create-channel', pc: 9, ch: 1, label: 'media', ordered: false }));
    expect(host.counters.stale).toBe(4);
    expect(out.at(-1)).toEqual({ type: 'channel-closed', ch: 1 }); // roomd hears the channel closed
    host.receive(encodeToWorker({ type: 'create-pc', pc: 1, iceServers: [] }));
    host.receive(encodeToWorker({ type: 'create-pc', pc: 1, iceServers: [] }));
    expect(host.counters.invalid).toBe(1);
  });

  it('a request about a connection it does not hold gets a failed reply', () => {
    const { out, host } = setup();
    host.receive(encodeToWorker({ type: 'request', req: 5, pc: 77, op: 'create-offer' }));
    expect(out.at(-1)).toMatchObject({ type: 'reply', req: 5, ok: false });
  });

  it('a broken stream stops it (exit 2) and closes what it held', () => {
    const { net, host, exits } = setup();
    host.receive(encodeToWorker({ type: 'create-pc', pc: 1, iceServers: [] }));
    expect(net.openCount).toBe(1);
    host.receive(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(exits).toEqual([2]);
    expect(net.openCount).toBe(0);
    host.receive(encodeToWorker({ type: 'create-pc', pc: 2, iceServers: [] }));
    expect(net.openCount).toBe(0);
  });

  it('shutdown closes every connection and exits 0, once', () => {
    const { net, host, exits } = setup();
    host.receive(encodeToWorker({ type: 'create-pc', pc: 1, iceServers: [] }));
    host.receive(encodeToWorker({ type: 'create-pc', pc: 2, iceServers: [] }));
    host.receive(encodeToWorker({ type: 'shutdown' }));
    host.stop(0);
    expect(exits).toEqual([0]);
    expect(net.openCount).toBe(0);
  });
});
