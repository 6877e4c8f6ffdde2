/**
 * Meeting chat on the room screen (docs/kiosk-and-admin-api.md §Chat): the messages the room may
 * show (to everyone, and privately to or from this room), newest at the bottom, and ready-made
 * replies the room sends with one tap — a room has no keyboard. A reply goes to everyone, or
 * privately to someone who wrote privately to the room and is still in the meeting.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { ChatMessage, Meeting } from '../api.ts';
import { addressLine, CANNED_REPLIES, privateSenders } from './chat-view.ts';
import { timeOf } from './common.tsx';

function Message({ message }: { message: ChatMessage }) {
  const { from, to } = addressLine(message);
  return (
    <li
      class={`chat-message ${message.mine ? 'chat-mine' : ''} ${message.private ? 'chat-private' : ''}`}
      data-testid="chat-message"
      data-private={String(message.private)}
      data-mine={String(message.mine)}
    >
      <div class="chat-meta">
        <span class="chat-from">{from}</span>
        <span class="chat-to">{to}</span>
        <span class="chat-time">{timeOf(new Date(message.at))}</span>
      </div>
      <div class="chat-text">{message.text}</div>
      {message.mine && (
        <div class="chat-status" data-testid="chat-status">
          {message.delivered ? 'Delivered' : 'Sent'}
        </div>
      )}
    </li>
  );
}

export function ChatPanel({
  meeting,
  target,
  onTarget,
  onSend,
  onClose,
  sending,
}: {
  meeting: Meeting;
  /** The participant a reply goes to privately, or null for everyone. */
  target: string | null;
  onTarget(target: string | null): void;
  onSend(text: string, to: string | null): void;
  onClose(): void;
  sending: boolean;
}) {
  const messages = meeting.chat ?? [];
  const list = useRef<HTMLDivElement>(null);
  const last = messages.at(-1)?.id;
  // Newest at the bottom, and in view.
  useEffect(() => {
    const el = list.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [last]);
  const senders = privateSenders(meeting);
  const to = senders.find((s) => s.id === target) ?? null;
  return (
    <section class="chat-panel" data-testid="chat-panel" aria-labelledby="chat-title">
      <header class="chat-header">
        <h2 id="chat-title">Chat</h2>
        <button
          type="button"
          class="button button-light button-small"
          onClick={onClose}
          data-testid="chat-close"
        >
          Close
        </button>
      </header>
      {messages.length === 0 ? (
        <p class="chat-empty">
          No messages yet. People in the meeting can write to everyone, or privately to this room.
        </p>
      ) : (
        <div class="chat-log" ref={list} role="log" aria-live="polite" aria-label="Chat messages">
          <ol class="chat-list">
            {messages.map((m) => (
              <Message message={m} key={m.id} />
            ))}
          </ol>
        </div>
      )}
      {senders.length > 0 && (
        <fieldset class="chat-targets">
          <legend class="label">Reply to</legend>
          <button
            type="button"
            class="button button-light button-small"
            aria-pressed={to === null}
            onClick={() => onTarget(null)}
            data-testid="chat-to-everyone"
          >
            Everyone
          </button>
          {senders.map((s) => (
            <button
              type="button"
              class="button button-light button-small"
              key={s.id}
              aria-pressed={to?.id === s.id}
              onClick={() => onTarget(s.id)}
              data-testid="chat-to-person"
              data-participant={s.id}
            >
              Privately to {s.name}
            </button>
          ))}
        </fieldset>
      )}
      <fieldset class="chat-replies">
        <legend class="label">{to === null ? 'Reply to everyone' : `Reply privately to ${to.name}`}</legend>
        {CANNED_REPLIES.map((text, i) => (
          <button
            type="button"
            class={`button button-light chat-reply ${sending ? 'is-pending' : ''}`}
            key={text}
            onClick={() => onSend(text, to?.id ?? null)}
            data-testid={`chat-reply-${i}`}
          >
            {text}
          </button>
        ))}
      </fieldset>
    </section>
  );
}
