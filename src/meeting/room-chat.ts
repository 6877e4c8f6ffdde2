/**
 * The room's chat rules (docs/kiosk-and-admin-api.md §Chat): sending one message for the room and
 * choosing the messages its screen may show. Pure functions over a meeting's chat channel.
 */
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { ChatChannel, ChatEntry } from './chat.ts';

/** What a meeting's chat channel offers the room: sending (src/meeting/chat.ts ChatChannel). */
export type ChatSender = Pick<ChatChannel, 'send'>;

/**
 * Send one chat message for the room: to everyone (`to` absent or 'all') or to one participant.
 * Refused with `meeting.chat_off` while the room's setting is off, `meeting.not_in_meeting` without
 * a meeting, and the channel's own code otherwise (`meeting.chat_invalid`,
 * `meeting.chat_unknown_recipient`, `meeting.chat_no_private`, `meeting.chat_not_ready`).
 */
export function sendChat(
  channel: ChatSender | null,
  enabled: boolean,
  clock: Pick<Clock, 'monotonic' | 'now'>,
  text: string,
  to?: string,
): string {
  // The setting first: it is the lasting reason, whatever the meeting's state.
  if (!enabled) throw new RoomdError('meeting.chat_off');
  if (channel === null) throw new RoomdError('meeting.not_in_meeting');
  const sent = channel.send(text, to ?? 'all', clock.monotonic(), clock.now());
  if (!sent.ok) throw new RoomdError(sent.code);
  return sent.id;
}

/**
 * The chat messages a room screen may show, newest last: group messages and those to or from the
 * room (`selfId`), never another pair's conversation nor one `hidden` (there while chat was off),
 * at most `limit`.
 */
export function visibleChat(
  entries: readonly ChatEntry[],
  selfId: string | undefined,
  limit: number,
  hidden: ReadonlySet<string> = new Set(),
): ChatEntry[] {
  const shown = entries.filter(
    (e) => !hidden.has(e.id) && (e.to === 'all' || e.mine || (selfId !== undefined && e.to === selfId)),
  );
  return shown.slice(Math.max(0, shown.length - limit));
}
