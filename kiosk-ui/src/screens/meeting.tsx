/**
 * In a meeting (docs/kiosk-and-admin-api.md §Room screen): the encryption band across the top
 * with the security code and the features this meeting has turned off, the code-changed banner,
 * video tiles with self-view, the participants with what is known about each one's identity and
 * the roster code, and the controls.
 */
import type { Meeting, RoomState } from '../api.ts';
import { type ControlActions, Controls } from '../components/controls.tsx';
import { CodeChangedBanner, DisabledFeatures, EncryptionArea } from '../components/encryption.tsx';
import { Roster } from '../components/roster.tsx';
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
        <Tiles meeting={meeting} router={router} />
        <aside class="sidebar">
          <Roster meeting={meeting} />
        </aside>
      </div>
      <Controls meeting={meeting} state={state} actions={actions} />
    </main>
  );
}
