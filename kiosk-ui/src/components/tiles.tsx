/**
 * Video tiles (docs/kiosk-and-admin-api.md §Room screen): one canvas per far-end participant painted
 * by the VideoRouter (WebCodecs), initials until the first frame arrives, and the room's own self-view.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Meeting } from '../api.ts';
import { SELF_VIEW, type VideoRouter } from '../video.ts';
import { Icon } from './icons.tsx';

type Participant = Meeting['participants'][number];

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/);
  return (
    (parts[0]?.[0] ?? '') + (parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '')
  ).toUpperCase();
}

export function Tile({ p, router, self }: { p: Participant; router: VideoRouter; self?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (canvas.current === null) return;
    const key = self === true ? SELF_VIEW : p.id;
    const detach = router.attach(key, canvas.current);
    const off = router.onFirstFrame((id) => id === key && setLive(true));
    return () => {
      detach();
      off();
    };
  }, [p.id, router, self]);
  const videoOff = p.videoOn === false;
  return (
    <div
      class={`tile ${self === true ? 'tile-self' : ''} ${live && !videoOff ? 'tile-live' : ''}`}
      data-testid="tile"
      data-participant={p.id}
    >
      <canvas ref={canvas} class="tile-video" />
      {(!live || videoOff) && (
        <div class="tile-placeholder">
          <span class="avatar">{initials(p.name)}</span>
        </div>
      )}
      <div class="tile-name">
        {p.muted === true && (
          <span class="muted-mark" role="img" aria-label="muted">
            <Icon name="micOff" />
          </span>
        )}
        {self === true ? `${p.name} (this room)` : p.name}
      </div>
    </div>
  );
}

export function Tiles({ meeting, router }: { meeting: Meeting; router: VideoRouter }) {
  const others = meeting.participants.filter((p) => p.self !== true);
  const self = meeting.participants.find((p) => p.self === true);
  const count = Math.max(1, others.length);
  const cols = count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
  return (
    <div class="stage">
      <div class={`tiles tiles-cols-${cols}`}>
        {others.length === 0 && <div class="tiles-empty">Nobody else has joined yet.</div>}
        {others.map((p) => (
          <Tile key={p.id} p={p} router={router} />
        ))}
      </div>
      {self !== undefined && (
        <div class="self-view">
          <Tile p={{ ...self, videoOn: meeting.cameraOn !== false }} router={router} self />
        </div>
      )}
    </div>
  );
}
