/**
 * What the room screen's content sharing shows and offers (docs/kiosk-and-admin-api.md §Content
 * sharing), as pure functions of the state: the Share button, the layout, the share view's caption.
 */
// The schema's types, not api.ts: this file is also type-checked (and tested) outside the browser.
import type { ShareState } from '../../../src/http/schemas/state.ts';

export interface ShareButton {
  readonly label: 'Share' | 'Stop sharing' | 'Take over sharing';
  /** The body of `POST /api/v1/share` a tap sends. */
  readonly on: boolean;
  readonly disabled: boolean;
  /** Why the button cannot be tapped, in words the room shows under it; null when it can. */
  readonly reason: string | null;
}

/** The Share button: stop while the room shares; otherwise share, unless it cannot or another does. */
export function shareButton(share: ShareState | undefined): ShareButton {
  if (share?.self === true) return { label: 'Stop sharing', on: false, disabled: false, reason: null };
  const off = (reason: string): ShareButton => ({ label: 'Share', on: true, disabled: true, reason });
  // The meeting's host takes a share over (docs/protocol.md "# Content sharing").
  if (share?.active === true && share.host && share.canShare)
    return {
      label: 'Take over sharing',
      on: true,
      disabled: false,
      reason: `${share.by ?? 'Someone'} is sharing`,
    };
  // Who shares says more than a missing content source: check it first.
  if (share?.active === true) return off(`${share.by ?? 'Someone'} is sharing`);
  if (share === undefined || !share.canShare) return off('No content source connected');
  return { label: 'Share', on: true, disabled: false, reason: null };
}

/**
 * The meeting's layout: content large with the people in a strip while anyone shares, unless the
 * people chose the grid for this share (`peopleChosen`, which lasts until the share ends).
 */
export function meetingLayout(share: ShareState | undefined, peopleChosen: boolean): 'grid' | 'share' {
  return share?.active === true && !peopleChosen ? 'share' : 'grid';
}

/** The share view's caption: who shares. */
export function shareCaption(share: ShareState): string {
  if (share.self) return 'This room is sharing';
  return `${share.by ?? 'Someone'} is sharing`;
}
