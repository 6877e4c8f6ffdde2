// The listener bookkeeping shared by every DataChannel and PeerConnection (src/transport/peer-events.ts):
// each emit reaches every listener of its kind, in the order they were added, and no other kind.
import { describe, expect, it } from 'vitest';
import type { IceCandidate, PeerState } from '../../../src/transport/peer.ts';
import { ChannelEvents, PeerEvents } from '../../../src/transport/peer-events.ts';

class Channel extends ChannelEvents {
  open = () => this.emitOpen();
  message = (d: Uint8Array) => this.emitMessage(d);
  close = () => this.emitClose();
}

class Peer extends PeerEvents {
  ice = (c: IceCandidate) => this.emitIceCandidate(c);
  state = (s: PeerState) => this.emitState(s);
}

describe('ChannelEvents', () => {
  it('calls the listeners of one kind in the order they were added', () => {
    const ch = new Channel();
    const seen: string[] = [];
    ch.onOpen(() => seen.push('open 1'));
    ch.onMessage((d) => seen.push(`message ${d.byteLength}`));
    ch.onOpen(() => seen.push('open 2'));
    ch.onClose(() => seen.push('close'));
    ch.open();
    ch.message(new Uint8Array(3));
    ch.close();
    expect(seen).toEqual(['open 1', 'open 2', 'message 3', 'close']);
  });
});

describe('PeerEvents', () => {
  it('hands candidates, channels and states to their own listeners only', () => {
    const pc = new Peer();
    const seen: string[] = [];
    pc.onIceCandidate((c) => seen.push(`ice ${c.candidate}`));
    pc.onStateChange((s) => seen.push(`state ${s}`));
    pc.onDataChannel((c) => seen.push(`channel ${c.label}`));
    pc.state('connecting');
    pc.ice({ candidate: 'c1', sdpMid: '0', sdpMLineIndex: 0 });
    pc.state('closed');
    expect(seen).toEqual(['state connecting', 'ice c1', 'state closed']);
  });
});
