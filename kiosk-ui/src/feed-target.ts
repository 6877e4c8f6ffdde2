/**
 * Where each kiosk feed stream is painted on the room screen (docs/kiosk-and-admin-api.md §Room
 * screen, §Content sharing). No DOM here: it is also type-checked (and tested) outside the browser.
 */
import { FEED_CAMERA_STREAM, type FeedFrame } from '../../src/media/kiosk-feed.ts';
import { STREAM_ID } from '../../src/protocol/vocabulary.ts';

/** Where the room's own camera is painted (the self-view tile registers under this key). */
export const SELF_VIEW = '@self';
/** Where shared content is painted, the room's own or another's (the share view registers it). */
export const SHARE_VIEW = '@share';

/** The canvas key a feed frame is painted on, or null for a stream the screen does not show. */
export function feedTarget(frame: Pick<FeedFrame, 'participantId' | 'streamId' | 'self'>): string | null {
  if (frame.streamId === STREAM_ID.screen) return SHARE_VIEW;
  if (frame.streamId !== FEED_CAMERA_STREAM) return null;
  return frame.self ? SELF_VIEW : frame.participantId;
}
