/**
 * In-meeting controls (issue 7, kiosk UI): microphone, camera, volume, camera presets, reactions, leave.
 */
import { useState } from 'preact/hooks';
import type { Meeting, RoomState } from '../api.ts';
import { Icon } from './icons.tsx';

const REACTIONS: [string, string][] = [
  ['thumbs_up', 'Thumbs up'],
  ['clap', 'Applause'],
  ['heart', 'Heart'],
  ['laugh', 'Laugh'],
  ['surprised', 'Wow'],
  ['raise_hand', 'Raise hand'],
];

export interface ControlActions {
  run(name: string, body?: Record<string, unknown>): void;
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
  const [panel, setPanel] = useState<'none' | 'react' | 'camera'>('none');
  const muted = meeting.muted === true;
  const cameraOn = meeting.cameraOn !== false;
  const volume = meeting.volume ?? 50;
  const presets = state.devices.find((d) => d.kind === 'camera')?.presets ?? [];
  const toggle = (p: 'react' | 'camera') => setPanel(panel === p ? 'none' : p);
  return (
    <div class="controls-wrap">
      {panel === 'react' && (
        <div class="popover" data-testid="reactions">
          {REACTIONS.map(([kind, label]) => (
            <button
              type="button"
              class="button button-light"
              key={kind}
              onClick={() => {
                actions.run('react', { reaction: kind });
                setPanel('none');
              }}
            >
              {label}
            </button>
          ))}
        </div>
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
          class={`control ${muted ? 'control-off' : ''}`}
          onClick={() => actions.run('mute', { muted: !muted })}
          data-testid="mute"
        >
          <Icon name={muted ? 'micOff' : 'mic'} />
          {muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          class={`control ${cameraOn ? '' : 'control-off'}`}
          onClick={() => actions.run('camera', { enabled: !cameraOn })}
          data-testid="camera"
        >
          <Icon name={cameraOn ? 'camera' : 'cameraOff'} />
          {cameraOn ? 'Stop camera' : 'Start camera'}
        </button>
        <div class="control control-volume">
          <button
            type="button"
            class="key"
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
            class="key"
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
        <button type="button" class="control" onClick={() => toggle('react')} data-testid="react">
          <Icon name="smile" />
          React
        </button>
        <button
          type="button"
          class="control control-leave"
          onClick={() => actions.run('leave')}
          data-testid="leave"
        >
          <Icon name="leave" />
          Leave
        </button>
      </nav>
    </div>
  );
}
