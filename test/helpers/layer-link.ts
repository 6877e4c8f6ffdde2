/**
 * The parts of MeetingMediaLink the room's media uses (src/meeting/room-media.ts), with the relay's
 * `video-layer` and the rate controller's video target in the test's hands and the room's video frames kept.
 */
import type { MediaCapture } from '../../src/media/capture.ts';
import type { MediaFrame } from '../../src/media/types.ts';
import type { VideoLayer } from '../../src/meeting/media-link.ts';

export class LayerLink {
  videoLayer: VideoLayer = 'full';
  readonly listeners = new Set<(layer: VideoLayer) => void>();
  readonly sent: MediaFrame[] = [];

  attach(capture: MediaCapture): void {
    if (capture.kind === 'video') capture.onFrame((f) => this.sent.push(f));
  }

  onVideoLayer(listener: (layer: VideoLayer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  videoRateKbps: number | undefined = undefined;
  readonly rateListeners = new Set<(kbps: number) => void>();

  onVideoRate(listener: (kbps: number) => void): () => void {
    this.rateListeners.add(listener);
    return () => this.rateListeners.delete(listener);
  }

  /** What MeetingMediaLink does when its rate controller picks a new video target. */
  rateSays(kbps: number): void {
    this.videoRateKbps = kbps;
    for (const l of this.rateListeners) l(kbps);
  }

  /** What MeetingMediaLink does with a relay `video-layer` message. */
  relaySays(layer: VideoLayer): void {
    if (layer === this.videoLayer) return;
    this.videoLayer = layer;
    for (const l of this.listeners) l(layer);
  }
}
