/**
 * Shared content on the room screen (docs/kiosk-and-admin-api.md §Content sharing): the content
 * large, painted by the VideoRouter on the one share view (whoever shares, the room too), the
 * people's tiles in a strip beside it, and a way back to the people grid.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Meeting } from '../api.ts';
import { SHARE_VIEW, type VideoRouter } from '../video.ts';
import { Icon } from './icons.tsx';
import { shareCaption } from './share-view.ts';
import { Tile } from './tiles.tsx';

type Share = NonNullable<Meeting['share']>;

export function ShareStage({
  meeting,
  share,
  router,
  onPeople,
}: {
  meeting: Meeting;
  share: Share;
  router: VideoRouter;
  onPeople: () => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (canvas.current === null) return;
    const detach = router.attach(SHARE_VIEW, canvas.current);
    const off = router.onFirstFrame((id) => id === SHARE_VIEW && setLive(true));
    return () => {
      detach();
      off();
    };
  }, [router]);
  const others = meeting.participants.filter((p) => p.self !== true);
  const self = meeting.participants.find((p) => p.self === true);
  const caption = shareCaption(share);
  return (
    <div class="share-stage">
      <div class="share-main">
        <canvas ref={canvas} class="share-video" data-testid="share-view" aria-label={caption} />
        {!live && <div class="share-placeholder">Waiting for the shared content…</div>}
        <div class="share-caption" data-testid="share-caption">
          <Icon name="share" />
          {caption}
          {share.notice !== undefined && (
            <span class="share-notice" data-testid="share-notice">
              {share.notice}
            </span>
          )}
        </div>
        <button
          type="button"
          class="button button-light share-layout-toggle"
          onClick={onPeople}
          data-testid="share-layout-toggle"
        >
          <Icon name="people" />
          Show people
        </button>
      </div>
      <div class="people-strip" data-testid="people-strip">
        {others.map((p) => (
          <Tile key={p.id} p={p} router={router} />
        ))}
        {self !== undefined && (
          <Tile p={{ ...self, videoOn: meeting.cameraOn !== false }} router={router} self />
        )}
      </div>
    </div>
  );
}

/** Over the people grid while someone shares: back to the content. */
export function ShowContentButton({ onContent }: { onContent: () => void }) {
  return (
    <button
      type="button"
      class="button button-light share-layout-toggle share-back"
      onClick={onContent}
      data-testid="share-layout-toggle"
    >
      <Icon name="share" />
      Show shared content
    </button>
  );
}
