/**
 * In a meeting (docs/kiosk-and-admin-api.md §Room screen): the encryption band across the top
 * with the security code and the features this meeting has turned off, the code-changed banner,
 * video tiles with self-view (or, while anyone shares, the content large and the people in a strip:
 * §Content sharing), the participants with what is known about each one's identity and the roster
 * code, and the controls.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Meeting, RoomState } from '../api.ts';
import { type ControlActions, Controls } from '../components/controls.tsx';
import { CodeChangedBanner, DisabledFeatures, EncryptionArea } from '../components/encryption.tsx';
import { Roster } from '../components/roster.tsx';
import { ShareStage, ShowContentButton } from '../components/share.tsx';
import { meetingLayout } from '../components/share-view.ts';
import { Tiles } from '../components/tiles.tsx';
import type { VideoRouter } from '../video.ts';

export function MeetingScreen({
  state,
  meeting,
  router,
  actions,
}: {
  state: RoomState;
  meeting: Meeting;
  router: VideoRouter;
  actions: ControlActions;
}) {
  // The people grid chosen during a share lasts until that share ends.
  const [peopleChosen, setPeopleChosen] = useState(false);
  const share = meeting.share;
  const sharing = share?.active === true;
  useEffect(() => {
    if (!sharing) setPeopleChosen(false);
  }, [sharing]);
  const layout = meetingLayout(share, peopleChosen);
  return (
    <main class="screen meeting" data-testid="screen-meeting">
      <CodeChangedBanner meeting={meeting} onAcknowledge={() => actions.run('security-code/ack')} />
      <div class="meeting-top">
        <div class="meeting-heading">
          <div class="label">{state.room.name}</div>
          <h1>{meeting.title ?? `Meeting ${meeting.id}`}</h1>
        </div>
        <EncryptionArea meeting={meeting}>
          <DisabledFeatures meeting={meeting} />
        </EncryptionArea>
      </div>
      <div class="meeting-body">
        {layout === 'share' && share !== undefined ? (
          <ShareStage
            meeting={meeting}
            share={share}
            router={router}
            onPeople={() => setPeopleChosen(true)}
          />
        ) : (
          <div class="stage-wrap">
            <Tiles meeting={meeting} router={router} />
            {sharing && <ShowContentButton onContent={() => setPeopleChosen(false)} />}
          </div>
        )}
        <aside class="sidebar">
          <Roster meeting={meeting} />
        </aside>
      </div>
      <Controls meeting={meeting} state={state} actions={actions} />
    </main>
  );
}
