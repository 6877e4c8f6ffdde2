/**
 * What the room screen's chat shows and offers (docs/kiosk-and-admin-api.md §Chat), as pure
 * functions of the state: the ready-made replies, the unread count, whom the room can answer
 * privately, and each message's "from · to" line.
 */
// The schema's types, not api.ts: this file is also type-checked (and tested) outside the browser.
import type { ChatMessage, MeetingState as Meeting } from '../../../src/http/schemas/state.ts';

/** The replies the room can send, in the order of their buttons (`chat-reply-N`). */
export const CANNED_REPLIES = [
  'We can hear you',
  "We can't hear you",
  "We'll be right there",
  'Please repeat that',
  'One moment, please',
] as const;

/** Messages from others that arrived since the room last had the chat open. */
export function unreadCount(messages: readonly ChatMessage[], seen: ReadonlySet<string>): number {
  return messages.filter((m) => !m.mine && !seen.has(m.id)).length;
}

/**
 * Who the room can answer privately: people who wrote privately to it and are still here, in an
 * end-to-end encrypted meeting (only those have keys for two alone).
 */
export function privateSenders(meeting: Meeting): { id: string; name: string }[] {
  if (meeting.encryption !== 'e2ee') return [];
  const present = new Map(meeting.participants.filter((p) => p.self !== true).map((p) => [p.id, p.name]));
  const out = new Map<string, string>();
  for (const m of meeting.chat ?? []) {
    const name = present.get(m.fromId);
    if (m.private && !m.mine && name !== undefined) out.set(m.fromId, name);
  }
  return [...out].map(([id, name]) => ({ id, name }));
}

/** "Alice Smith · to everyone", "Alice Smith · to this room, privately", "This room · to Bob, privately". */
export function addressLine(m: ChatMessage): { from: string; to: string } {
  const from = m.mine ? 'This room' : m.from;
  if (!m.private) return { from, to: 'to everyone' };
  return { from, to: m.mine ? `to ${m.to}, privately` : 'to this room, privately' };
}
