/**
 * The listener bookkeeping every DataChannel and PeerConnection of peer.ts shares (wrtc-peer.ts,
 * worker-peer.ts, fake-peer.ts): `onX` adds a listener, the implementation's `emitX` calls them
 * all in the order they were added.
 */
import type { DataChannel, IceCandidate, PeerState } from './peer.ts';

/** The listener half of a DataChannel: open, message, close. */
export abstract class ChannelEvents {
  readonly #open: (() => void)[] = [];
  readonly #message: ((data: Uint8Array) => void)[] = [];
  readonly #close: (() => void)[] = [];

  onOpen(listener: () => void): void {
    this.#open.push(listener);
  }
  onMessage(listener: (data: Uint8Array) => void): void {
    this.#message.push(listener);
  }
  onClose(listener: () => void): void {
    this.#close.push(listener);
  }

  protected emitOpen(): void {
    for (const l of this.#open) l();
  }
  protected emitMessage(data: Uint8Array): void {
    for (const l of this.#message) l(data);
  }
  protected emitClose(): void {
    for (const l of this.#close) l();
  }
}

/** The listener half of a PeerConnection: ICE candidates, channels the far end opened, state. */
export abstract class PeerEvents {
  readonly #ice: ((candidate: IceCandidate) => void)[] = [];
  readonly #channel: ((channel: DataChannel) => void)[] = [];
  readonly #state: ((state: PeerState) => void)[] = [];

  onIceCandidate(listener: (candidate: IceCandidate) => void): void {
    this.#ice.push(listener);
  }
  onDataChannel(listener: (channel: DataChannel) => void): void {
    this.#channel.push(listener);
  }
  onStateChange(listener: (state: PeerState) => void): void {
    this.#state.push(listener);
  }

  protected emitIceCandidate(candidate: IceCandidate): void {
    for (const l of this.#ice) l(candidate);
  }
  protected emitDataChannel(channel: DataChannel): void {
    for (const l of this.#channel) l(channel);
  }
  protected emitState(state: PeerState): void {
    for (const l of this.#state) l(state);
  }
}
