/**
 * In-meeting controls (docs/kiosk-and-admin-api.md §Room screen): microphone, camera, volume,
 * camera presets, sharing the room's content (§Content sharing), reactions, chat (with the count of
 * unread messages; §Chat), leave. A tapped control shows at once that it was taken (pressed while
 * roomd has not answered); Leave says "Leaving…" and cannot be tapped twice.
 */
import { createPortal } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import type { Meeting, RoomState } from '../api.ts';
import { REACTIONS, type Reaction } from '../../../src/protocol/vocabulary.ts';
import { ChatPanel } from './chat.tsx';
import { unreadCount } from './chat-view.ts';
import { Icon } from './icons.tsx';
import { shareButton } from './share-view.ts';

/** What each reaction's button says. */
const REACTION_LABELS: Readonly<Record<Reaction, string>> = {
  thumbs_up: 'Thumbs up',
  clap: 'Applause',
  heart: 'Heart',
  laugh: 'Laugh',
  surprised: 'Wow',
  raise_hand: 'Raise hand',
};

export interface ControlActions {
  run(name: string, body?: Record<string, unknown>): void;
  /** Whether a command of that name is on its way to roomd. */
  pending(name: string): boolean;
}

/**
 * The chat panel opens over the people and the roster, never over the encryption area: the shield
 * and the security code stay in view whatever else is open.
 */
function inMeetingBody(panel: preact.VNode): preact.VNode {
  const body = document.querySelector('.meeting-body');
  return body === null ? panel : (createPortal(panel, body) as preact.VNode);
}

export function Controls({
  meeting,
  state,
  actions,
}: {
  meeting: Meeting;
  state: RoomState;
  actions: ControlActions;
}) {
  const [panel, setPanel] = useState<'none' | 'react' | 'camera' | 'chat'>('none');
  // Messages the room has had in view, and who a reply goes to (null: everyone).
  const [seen, setSeen] = useState<ReadonlySet<string>>(new Set());
  const [replyTo, setReplyTo] = useState<string | null>(null);
  const chatOn = meeting.chatEnabled !== false;
  const messages = meeting.chat ?? [];
  const chatOpen = chatOn && panel === 'chat';
  const newest = messages.at(-1)?.id;
  useEffect(() => {
    if (chatOpen) setSeen(new Set(messages.map((m) => m.id)));
    // `newest` stands for the messages: the list only ever grows at the end.
  }, [chatOpen, newest]);
  const unread = chatOpen ? 0 : unreadCount(messages, seen);
  const muted = meeting.muted === true;
  const cameraOn = meeting.cameraOn !== false;
  const volume = meeting.volume ?? 50;
  const presets = state.devices.find((d) => d.kind === 'camera')?.presets ?? [];
  const toggle = (p: 'react' | 'camera' | 'chat') => setPanel(panel === p ? 'none' : p);
  const leaving = actions.pending('leave') || meeting.leaving === true;
  const busy = (name: string) => (actions.pending(name) ? 'is-pending' : '');
  const share = shareButton(meeting.share);
  return (
    <div class="controls-wrap">
      {panel === 'react' && (
        <div class="popover" data-testid="reactions">
          {REACTIONS.map((kind) => (
            <button
              type="button"
              class="button button-light"
              key={kind}
              onClick={() => {
                actions.run('react', { reaction: kind });
                setPanel('none');
              }}
            >
              {REACTION_LABELS[kind]}
            </button>
          ))}
        </div>
      )}
      {chatOpen &&
        inMeetingBody(
          <ChatPanel
            meeting={meeting}
            target={replyTo}
            onTarget={setReplyTo}
            onSend={(text, to) => actions.run('chat', to === null ? { text } : { text, to })}
            onClose={() => setPanel('none')}
            sending={actions.pending('chat')}
          />,
        )}
      {panel === 'camera' && (
        <div class="popover" data-testid="camera-presets">
          {presets.map((p) => (
            <button
              type="button"
              class="button button-light"
              key={p.id}
              onClick={() => actions.run('ptz', { op: 'preset', preset: p.id })}
            >
              {p.name}
            </button>
          ))}
          <button
            type="button"
            class="button button-light"
            onClick={() => actions.run('ptz', { op: 'home' })}
          >
            Reset view
          </button>
        </div>
      )}
      <nav class="controls" data-testid="controls">
        <button
          type="button"
          class={`control ${muted ? 'control-off' : ''} ${busy('mute')}`}
          onClick={() => actions.run('mute', { muted: !muted })}
          data-testid="mute"
        >
          <Icon name={muted ? 'micOff' : 'mic'} />
          {muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          class={`control ${cameraOn ? '' : 'control-off'} ${busy('camera')}`}
          onClick={() => actions.run('camera', { enabled: !cameraOn })}
          data-testid="camera"
        >
          <Icon name={cameraOn ? 'camera' : 'cameraOff'} />
          {cameraOn ? 'Stop camera' : 'Start camera'}
        </button>
        <div class="control control-volume">
          <button
            type="button"
            class={`key ${busy('volume')}`}
            onClick={() => actions.run('volume', { level: Math.max(0, volume - 10) })}
            data-testid="volume-down"
          >
            −
          </button>
          <span class="volume-level" data-testid="volume">
            <Icon name="speaker" /> {volume}
          </span>
          <button
            type="button"
            class={`key ${busy('volume')}`}
            onClick={() => actions.run('volume', { level: Math.min(100, volume + 10) })}
            data-testid="volume-up"
          >
            +
          </button>
        </div>
        <button type="button" class="control" onClick={() => toggle('camera')} data-testid="presets">
          <Icon name="target" />
          Camera view
        </button>
        <button
          type="button"
          class={`control control-share ${share.on ? '' : 'control-active'} ${busy('share')}`}
          disabled={share.disabled}
          onClick={() => actions.run('share', { on: share.on })}
          aria-describedby={share.reason === null ? undefined : 'share-reason'}
          data-testid="share-toggle"
        >
          <Icon name="share" />
          {share.label}
          {share.reason !== null && (
            <span class="control-reason" id="share-reason" data-testid="share-reason">
              {share.reason}
            </span>
          )}
        </button>
        <button type="button" class="control" onClick={() => toggle('react')} data-testid="react">
          <Icon name="smile" />
          React
        </button>
        {chatOn && (
          <button
            type="button"
            class={`control control-chat ${chatOpen ? 'control-active' : ''}`}
            onClick={() => toggle('chat')}
            aria-expanded={chatOpen}
            aria-label={unread === 0 ? 'Chat' : `Chat, ${unread} unread`}
            data-testid="chat-open"
          >
            <Icon name="chat" />
            Chat
            {unread > 0 && (
              <span class="chat-unread" data-testid="chat-unread" aria-hidden="true">
                {unread > 99 ? '99+' : unread}
              </span>
            )}
          </button>
        )}
        <button
          type="button"
          class={`control control-leave ${leaving ? 'is-pending' : ''}`}
          disabled={leaving}
          onClick={() => actions.run('leave')}
          data-testid="leave"
        >
          <Icon name="leave" />
          {leaving ? 'Leaving…' : 'Leave'}
        </button>
      </nav>
    </div>
  );
}
