// The room screen's content sharing (docs/kiosk-and-admin-api.md §Content sharing): what the Share
// button offers and why it cannot be tapped, when the content goes large, and where feed frames paint.
import { describe, expect, it } from 'vitest';
import { meetingLayout, shareButton, shareCaption } from '../../../kiosk-ui/src/components/share-view.ts';
import { feedTarget, SELF_VIEW, SHARE_VIEW } from '../../../kiosk-ui/src/feed-target.ts';
import type { ShareState } from '../../../src/http/schemas/state.ts';

const share = (s: Partial<ShareState>): ShareState => ({
  active: false,
  self: false,
  by: null,
  canShare: true,
  host: false,
  ...s,
});

describe('shareButton', () => {
  it('shares when nobody does, stops while the room does', () => {
    expect(shareButton(share({}))).toEqual({ label: 'Share', on: true, disabled: false, reason: null });
    expect(shareButton(share({ active: true, self: true, by: 'Fjord' }))).toEqual({
      label: 'Stop sharing',
      on: false,
      disabled: false,
      reason: null,
    });
  });

  it('cannot be tapped without a content source, or while someone else shares, and says why', () => {
    expect(shareButton(share({ canShare: false }))).toMatchObject({
      disabled: true,
      reason: 'No content source connected',
    });
    expect(shareButton(undefined)).toMatchObject({ disabled: true, reason: 'No content source connected' });
    expect(shareButton(share({ active: true, by: 'Alice Smith' }))).toMatchObject({
      label: 'Share',
      disabled: true,
      reason: 'Alice Smith is sharing',
    });
  });

  it('lets the room take a share over when the meeting service lists it as host', () => {
    expect(shareButton(share({ active: true, by: 'Alice Smith', host: true }))).toEqual({
      label: 'Take over sharing',
      on: true,
      disabled: false,
      reason: 'Alice Smith is sharing',
    });
    // Without a content source even the host has nothing to share.
    expect(
      shareButton(share({ active: true, by: 'Alice Smith', host: true, canShare: false })),
    ).toMatchObject({
      disabled: true,
    });
  });
});

describe('meetingLayout', () => {
  it('content large while anyone shares, unless the people grid was chosen', () => {
    expect(meetingLayout(undefined, false)).toBe('grid');
    expect(meetingLayout(share({}), false)).toBe('grid');
    expect(meetingLayout(share({ active: true, by: 'Alice Smith' }), false)).toBe('share');
    expect(meetingLayout(share({ active: true, self: true }), false)).toBe('share');
    expect(meetingLayout(share({ active: true, by: 'Alice Smith' }), true)).toBe('grid');
  });

  it('the caption names the sharer, or the room', () => {
    expect(shareCaption(share({ active: true, by: 'Alice Smith' }))).toBe('Alice Smith is sharing');
    expect(shareCaption(share({ active: true, self: true, by: 'Fjord' }))).toBe('This room is sharing');
  });
});

describe('feedTarget', () => {
  it('cameras paint their tiles, content (anyone’s, the room’s too) the share view', () => {
    expect(feedTarget({ participantId: 'p-alice', streamId: 1, self: false })).toBe('p-alice');
    expect(feedTarget({ participantId: 'self', streamId: 1, self: true })).toBe(SELF_VIEW);
    expect(feedTarget({ participantId: 'p-alice', streamId: 2, self: false })).toBe(SHARE_VIEW);
    expect(feedTarget({ participantId: 'self', streamId: 2, self: true })).toBe(SHARE_VIEW);
    expect(feedTarget({ participantId: 'p-alice', streamId: 0, self: false })).toBeNull();
    expect(feedTarget({ participantId: 'self', streamId: 7, self: true })).toBeNull();
  });
});
