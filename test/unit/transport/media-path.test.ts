import { describe, expect, it } from 'vitest';
import { mediaPathOf } from '../../../src/transport/peer.ts';

describe('mediaPathOf: how a connection goes, from its local candidate', () => {
  it('names direct and TURN paths by transport', () => {
    expect(mediaPathOf({ candidateType: 'host', protocol: 'udp' })).toBe('direct-udp');
    expect(mediaPathOf({ candidateType: 'srflx', protocol: 'udp' })).toBe('direct-udp');
    expect(mediaPathOf({ candidateType: 'prflx', protocol: 'tcp' })).toBe('direct-tcp');
    // A relay candidate: how we reach the TURN server, not what it relays over (always UDP).
    expect(mediaPathOf({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tls' })).toBe('turn-tls');
    expect(mediaPathOf({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp' })).toBe('turn-tcp');
    expect(mediaPathOf({ candidateType: 'relay', protocol: 'udp' })).toBe('turn-udp');
  });

  it('is null for stats it does not know', () => {
    expect(mediaPathOf({})).toBeNull();
    expect(mediaPathOf({ candidateType: 'host', protocol: 'sctp' })).toBeNull();
    expect(mediaPathOf({ candidateType: 'relay', relayProtocol: { toString: () => 'udp' } })).toBeNull();
  });
});
