/**
 * In a meeting (issue 7, kiosk UI): the encryption band with the security code across the top,
 * the code-changed banner, video tiles with self-view, the verified roster, the features this
 * meeting has turned off, and the controls.
 */
import type { Meeting, RoomState } from '../api.ts';
import { type ControlActions, Controls } from '../components/controls.tsx';
import { CodeChangedBanner, DisabledFeatures, EncryptionArea } from '../components/encryption.tsx';
import { Tiles } from '../components/tiles.tsx';
import type { VideoRouter } from '../video.ts';

const CLIENT_LABEL: Record<string, string> = {
  room: 'Room system',
  desktop: 'Desktop app',
  mobile: 'Mobile app',
  web: 'Web browser',
  phone: 'Telephone',
  sip: 'SIP device',
};

function Roster({ meeting }: { meeting: Meeting }) {
  const e2ee = meeting.encryption === 'e2ee';
  return (
    <section class="roster" data-testid="roster">
      <h3>
        Participants <span class="count">{meeting.participants.length}</span>
      </h3>
      <ul>
        {meeting.participants.map((p) => (
          <li key={p.id} data-testid="participant" data-verified={String(p.verified)}>
            <div class="participant-name">
              {p.name}
              {p.self === true && <span class="pill">This room</span>}
            </div>
            <div class="participant-meta">
              <span>{CLIENT_LABEL[p.clientType] ?? p.clientType}</span>
              {e2ee &&
                (p.verified ? (
                  <span class="badge badge-verified" data-testid="verified-badge">
                    ✓ Verified
                  </span>
                ) : (
                  <span class="badge badge-unverified">Not verified</span>
                ))}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

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
        <EncryptionArea meeting={meeting} />
      </div>
      <div class="meeting-body">
        <Tiles meeting={meeting} router={router} />
        <aside class="sidebar">
          <Roster meeting={meeting} />
          <DisabledFeatures meeting={meeting} />
        </aside>
      </div>
      <Controls meeting={meeting} state={state} actions={actions} />
    </main>
  );
}
