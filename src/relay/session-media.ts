/**
 * A relay session's media connection (docs/protocol.md "# Wire protocol" §Session flow): answering a
 * participant's offer, taking its media channel into the fan-out, and telling the client when that
 * connection is lost at our end. Used by `Connection` in `session.ts`.
 */
import { RoomdError } from '../core/errors.ts';
import { errorMessage } from '../protocol/codec.ts';
import { MediaChannel } from '../transport/media-channel.ts';
import { MEDIA_CHANNEL_LABEL } from '../transport/peer.ts';
import type { Logger } from '../core/logger.ts';
import type { PeerConnectionFactory, PeerConnectionOptions } from '../transport/peer.ts';
import type { OutgoingBody } from './hooks.ts';
import type { Participant } from './live-meeting.ts';
import { RELAY_TURN_USER } from './turn.ts';

/** What the media setup needs of the relay (`RelayCore` in core.ts, which imports the planes). */
export interface MediaCore {
  readonly peers: PeerConnectionFactory;
  readonly receiverBufferBytes: number;
  /** The relay end's ICE servers (TURN with its own credentials; docs/protocol.md §ICE servers). */
  iceServersFor(user: string): NonNullable<PeerConnectionOptions['iceServers']>;
  readonly router: { forward(from: Participant, data: Uint8Array): void };
  readonly log: Logger;
  mediaConnectionsLost: number;
}

/** What the media setup needs of its connection (`Connection` in session.ts). */
export interface MediaHost {
  readonly core: MediaCore;
  readonly state: 'new' | 'waiting' | 'admitted' | 'closed';
  send(body: OutgoingBody): void;
  guardTrip(where: 'signaling' | 'media', error: unknown): void;
}

export async function answerOffer(conn: MediaHost, p: Participant, sdp: string): Promise<void> {
  const core = conn.core;
  p.media?.close();
  p.pc?.close();
  const pc = core.peers.create({ iceServers: core.iceServersFor(RELAY_TURN_USER) });
  p.pc = pc;
  p.media = undefined;
  pc.onIceCandidate((c) => {
    if (p.pc === pc) conn.send({ type: 'ice', ...c });
  });
  pc.onDataChannel((channel) => {
    // One media channel per connection: a second one (or any other label) is closed unread, so a
    // client cannot multiply what the relay forwards for it.
    if (channel.label !== MEDIA_CHANNEL_LABEL || p.pc !== pc || p.media !== undefined) {
      channel.close();
      return;
    }
    const media = new MediaChannel(channel, { highWaterMark: core.receiverBufferBytes });
    p.media = media;
    channel.onMessage((data) => {
      // Last-resort guard: the fan-out drops and counts bad chunks itself; anything else closes
      // this participant's connection, not the relay.
      try {
        core.router.forward(p, data);
      } catch (error) {
        conn.guardTrip('media', error);
      }
    });
    const ready = () => {
      if (p.media === media) conn.send({ type: 'media-ready' });
    };
    if (channel.readyState === 'open') ready();
    else channel.onOpen(ready);
  });
  // Our end failed (ICE, or the relay's media worker died and took it along): the client is told at
  // once, so it offers a new connection instead of waiting for its own to time out.
  pc.onStateChange((s) => {
    if (s === 'failed' && p.pc === pc) mediaLost(conn, p, 'failed');
  });
  try {
    const answer = await pc.acceptOffer({ type: 'offer', sdp });
    if (p.pc !== pc || conn.state !== 'admitted') return;
    conn.send({ type: 'sdp', sdpType: 'answer', sdp: answer.sdp });
  } catch (error) {
    core.log.warn({ participant: p.id, err: (error as Error).message }, 'could not answer a media offer');
    if (p.pc !== pc) return;
    conn.send(
      errorMessage(
        new RoomdError('transport.open_failed', { message: 'The relay could not set up media.' }),
        'sdp',
      ),
    );
    mediaLost(conn, p, 'setup_failed');
  }
}

/**
 * The participant's current media connection is gone at our end: close it and tell the client,
 * which offers a new one on the same admission (docs/protocol.md §Session flow). Only for the
 * current connection: one an offer already replaced is nobody's concern.
 */
export function mediaLost(conn: MediaHost, p: Participant, reason: 'failed' | 'setup_failed'): void {
  const pc = p.pc;
  if (pc === undefined) return;
  p.media?.close();
  p.media = undefined;
  p.pc = undefined;
  pc.close();
  conn.core.mediaConnectionsLost++;
  conn.core.log.warn({ participant: p.id, reason }, 'media connection lost; the client was told');
  if (conn.state === 'admitted') conn.send({ type: 'media-lost', reason });
}
