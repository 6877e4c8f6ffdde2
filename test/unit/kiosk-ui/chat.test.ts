// The room screen's chat (docs/kiosk-and-admin-api.md §Chat): what counts as unread, whom the
// room can answer privately, and how each message says where it went.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, MeetingState } from '../../../src/http/schemas/state.ts';
import {
  addressLine,
  CANNED_REPLIES,
  privateSenders,
  unreadCount,
} from '../../../kiosk-ui/src/components/chat-view.ts';
import { validChatText } from '../../../src/meeting/chat.ts';

const msg = (m: Partial<ChatMessage>): ChatMessage => ({
  id: 'm1',
  from: 'Alice Smith',
  fromId: 'p-alice',
  to: 'everyone',
  text: 'Hello',
  at: 0,
  mine: false,
  delivered: true,
  private: false,
  ...m,
});

const meeting = (chat: ChatMessage[]): MeetingState => ({
  id: '12345678901',
  status: 'in_meeting',
  encryption: 'e2ee',
  shield: 'e2ee',
  securityCode: null,
  securityCodeChanged: false,
  epoch: 1,
  leader: null,
  participants: [
    {
      id: 'p-room',
      name: 'Huddle Room 3',
      clientType: 'room',
      verified: true,
      keyed: true,
      identity: { status: 'none' },
      self: true,
    },
    {
      id: 'p-alice',
      name: 'Alice Smith',
      clientType: 'desktop',
      verified: true,
      keyed: true,
      identity: { status: 'none' },
    },
  ],
  disabledFeatures: [],
  chat,
});

describe('room screen chat', () => {
  it('counts messages from others the room has not had in view; its own never', () => {
    const messages = [msg({ id: 'a' }), msg({ id: 'b' }), msg({ id: 'c', mine: true })];
    expect(unreadCount(messages, new Set())).toBe(2);
    expect(unreadCount(messages, new Set(['a']))).toBe(1);
    expect(unreadCount(messages, new Set(['a', 'b']))).toBe(0);
  });

  it('offers private replies only to people who wrote privately and are still in the meeting', () => {
    const m = meeting([
      msg({ id: 'g' }),
      msg({ id: 'p1', to: 'room', private: true }),
      msg({ id: 'p2', to: 'room', private: true }),
      msg({ id: 'gone', from: 'Bob Jones', fromId: 'p-bob', to: 'room', private: true }),
      msg({
        id: 'own',
        from: 'Huddle Room 3',
        fromId: 'p-room',
        to: 'Alice Smith',
        private: true,
        mine: true,
      }),
    ]);
    expect(privateSenders(m)).toEqual([{ id: 'p-alice', name: 'Alice Smith' }]);
    expect(privateSenders(meeting([msg({ id: 'g' })]))).toEqual([]);
    // Enhanced meetings have no keys for two alone: the room answers everyone.
    expect(privateSenders({ ...m, encryption: 'enhanced' })).toEqual([]);
  });

  it('says where each message went', () => {
    expect(addressLine(msg({}))).toEqual({ from: 'Alice Smith', to: 'to everyone' });
    expect(addressLine(msg({ to: 'room', private: true }))).toEqual({
      from: 'Alice Smith',
      to: 'to this room, privately',
    });
    expect(addressLine(msg({ mine: true, to: 'Bob Jones', private: true }))).toEqual({
      from: 'This room',
      to: 'to Bob Jones, privately',
    });
  });

  it('every ready-made reply is text the chat channel accepts', () => {
    expect(CANNED_REPLIES.length).toBeGreaterThanOrEqual(4);
    for (const r of CANNED_REPLIES) expect(validChatText(r)).toBe(true);
  });
});
