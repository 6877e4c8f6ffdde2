/**
 * The kiosk WebSocket `/api/v1/live` (docs/kiosk-and-admin-api.md §Room screen): a text frame
 * `{"type":"state","state":…}` on connect and after every change, and binary frames carrying the
 * media layer's video messages (docs/protocol.md "# Kiosk media feed") forwarded verbatim. Each
 * socket is its own sink of the feed, which decides what a slow viewer skips (it restarts at a
 * keyframe); state is never skipped.
 */
import type { WebSocket } from 'ws';
import type { Unsubscribe, VideoFeedSource } from '../ports.ts';
import type { LiveMessage, RoomState } from '../schemas/state.ts';
import type { KioskStateHub } from './state-hub.ts';

export class LiveHub {
  readonly #hub: KioskStateHub;
  readonly #video: VideoFeedSource | null;
  readonly #sockets = new Map<WebSocket, Unsubscribe | null>();
  #unsubState: Unsubscribe | null = null;

  constructor(hub: KioskStateHub, video: VideoFeedSource | null) {
    this.#hub = hub;
    this.#video = video;
  }

  get viewers(): number {
    return this.#sockets.size;
  }

  add(socket: WebSocket): void {
    // State first, so the page has its tiles before the feed replays each stream's picture group.
    this.#sendState(socket, this.#hub.getState());
    const unsubVideo =
      this.#video?.subscribe({
        send: (message) => {
          if (socket.readyState === socket.OPEN) socket.send(message, { binary: true });
        },
        bufferedBytes: () => socket.bufferedAmount,
      }) ?? null;
    this.#sockets.set(socket, unsubVideo);
    if (this.#sockets.size === 1) this.#attach();
    socket.on('close', () => this.#remove(socket));
    socket.on('error', () => this.#remove(socket));
    // The kiosk sends nothing meaningful; anything it sends is ignored.
    socket.on('message', () => {});
  }

  close(): void {
    for (const [s, unsubVideo] of this.#sockets) {
      unsubVideo?.();
      s.close(1001, 'server shutting down');
    }
    this.#sockets.clear();
    this.#detach();
  }

  #remove(socket: WebSocket): void {
    if (!this.#sockets.has(socket)) return;
    this.#sockets.get(socket)?.();
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0) this.#detach();
  }

  #attach(): void {
    this.#unsubState = this.#hub.subscribe((state) => {
      for (const s of this.#sockets.keys()) this.#sendState(s, state);
    });
  }

  #detach(): void {
    this.#unsubState?.();
    this.#unsubState = null;
  }

  #sendState(socket: WebSocket, state: RoomState): void {
    if (socket.readyState !== socket.OPEN) return;
    const message: LiveMessage = { type: 'state', state };
    socket.send(JSON.stringify(message));
  }
}
