/**
 * The room screen (docs/kiosk-and-admin-api.md §Room screen): picks the screen from the live state
 * (screens/choose.ts: the meeting's screen whenever the room is in or joining one, claimed or not;
 * else setup until claimed, then idle) and shows notices in plain words. Every tap shows at once
 * that it was taken: the command is marked pending until roomd answers.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { CommandError, command, connectLive, type RoomState } from './api.ts';
import { Notices } from './components/common.tsx';
import type { ControlActions } from './components/controls.tsx';
import { chooseScreen } from './screens/choose.ts';
import { IdleScreen } from './screens/idle.tsx';
import { JoiningScreen, WaitingScreen } from './screens/joining.tsx';
import { MeetingScreen } from './screens/meeting.tsx';
import { SetupScreen } from './screens/setup.tsx';
import { VideoRouter } from './video.ts';

export function App() {
  const [state, setState] = useState<RoomState | null>(null);
  const [connected, setConnected] = useState(true);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
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
    setPending((p) => new Set(p).add(name));
    setCommandError(null);
    try {
      await command(name, body);
    } catch (error) {
      setCommandError(error instanceof CommandError ? error.message : 'Something went wrong.');
    } finally {
      setPending((p) => {
        const next = new Set(p);
        next.delete(name);
        return next;
      });
    }
  }, []);
  const actions = useMemo<ControlActions>(
    () => ({
      run: (n: string, b?: Record<string, unknown>) => void run(n, b),
      pending: (n: string) => pending.has(n),
    }),
    [run, pending],
  );

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
  const leaving = actions.pending('leave') || m?.leaving === true;
  let screen: preact.JSX.Element;
  switch (chooseScreen(state)) {
    case 'setup':
      screen = <SetupScreen state={state} />;
      break;
    case 'idle':
      screen = (
        <IdleScreen
          state={state}
          joining={actions.pending('join')}
          onJoin={(meetingId, passcode) =>
            actions.run('join', passcode === undefined ? { meetingId } : { meetingId, passcode })
          }
        />
      );
      break;
    case 'joining':
      screen = <JoiningScreen meeting={m!} leaving={leaving} onLeave={() => actions.run('leave')} />;
      break;
    case 'waiting':
      screen = <WaitingScreen meeting={m!} leaving={leaving} onLeave={() => actions.run('leave')} />;
      break;
    case 'meeting':
      screen = <MeetingScreen state={state} meeting={m!} router={router} actions={actions} />;
      break;
  }
  return (
    <div class="app">
      {screen}
      {notices}
    </div>
  );
}
