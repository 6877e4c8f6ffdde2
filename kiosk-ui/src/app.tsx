/**
 * The room screen (issue 7, kiosk UI): picks the screen from the live state — not provisioned,
 * idle, joining, waiting for the host, in a meeting — and shows notices in plain words.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { CommandError, command, connectLive, type RoomState } from './api.ts';
import { Notices } from './components/common.tsx';
import { IdleScreen } from './screens/idle.tsx';
import { JoiningScreen, WaitingScreen } from './screens/joining.tsx';
import { MeetingScreen } from './screens/meeting.tsx';
import { SetupScreen } from './screens/setup.tsx';
import { VideoRouter } from './video.ts';

export function App() {
  const [state, setState] = useState<RoomState | null>(null);
  const [connected, setConnected] = useState(true);
  const [busy, setBusy] = useState(false);
  const [commandError, setCommandError] = useState<string | null>(null);
  const router = useMemo(() => new VideoRouter(), []);

  useEffect(() => {
    const stop = connectLive({
      onState: setState,
      onVideo: (m) => router.push(m),
      onConnection: setConnected,
    });
    return () => {
      stop();
      router.close();
    };
  }, [router]);

  // A failed touch command is explained for a while, then the screen clears itself.
  useEffect(() => {
    if (commandError === null) return;
    const t = window.setTimeout(() => setCommandError(null), 15_000);
    return () => window.clearTimeout(t);
  }, [commandError]);

  const run = useCallback(async (name: string, body: Record<string, unknown> = {}) => {
    setBusy(true);
    setCommandError(null);
    try {
      await command(name, body);
    } catch (error) {
      setCommandError(error instanceof CommandError ? error.message : 'Something went wrong.');
    } finally {
      setBusy(false);
    }
  }, []);
  const actions = useMemo(() => ({ run: (n: string, b?: Record<string, unknown>) => void run(n, b) }), [run]);

  const notices = (
    <Notices
      state={state}
      commandError={commandError}
      connected={connected}
      onDismiss={() => setCommandError(null)}
    />
  );
  if (state === null) {
    return (
      <div class="app">
        <main class="screen starting" data-testid="screen-starting">
          <h1>Starting…</h1>
        </main>
        {notices}
      </div>
    );
  }
  const m = state.meeting;
  let screen: preact.JSX.Element;
  if (!state.room.provisioned) screen = <SetupScreen state={state} />;
  else if (m === null || m.status === 'ended') {
    screen = (
      <IdleScreen
        state={state}
        busy={busy}
        onJoin={(meetingId, passcode) =>
          actions.run('join', passcode === undefined ? { meetingId } : { meetingId, passcode })
        }
      />
    );
  } else if (m.status === 'joining')
    screen = <JoiningScreen meeting={m} onLeave={() => actions.run('leave')} />;
  else if (m.status === 'waiting_for_host')
    screen = <WaitingScreen meeting={m} onLeave={() => actions.run('leave')} />;
  else screen = <MeetingScreen state={state} meeting={m} router={router} actions={actions} />;
  return (
    <div class="app">
      {screen}
      {notices}
    </div>
  );
}
