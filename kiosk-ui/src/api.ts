/**
 * The kiosk page's link to roomd (docs/kiosk-and-admin-api.md §Room screen): the live WebSocket
 * `/api/v1/live` (state as text frames, video as binary frames) with reconnect, and the touch
 * commands. Command failures come back as the server's human sentence.
 */
import type { RoomState } from '../../src/http/schemas/state.ts';

export type { RoomState };
export type Meeting = NonNullable<RoomState['meeting']>;
export type Participant = Meeting['participants'][number];
/** One chat message as the room shows it (docs/kiosk-and-admin-api.md §Chat). */
export type ChatMessage = NonNullable<Meeting['chat']>[number];
/** What is known about whose identity key a participant holds (docs/kiosk-and-admin-api.md §Room screen). */
export type ParticipantIdentity = Participant['identity'];
export type IdentityPolicy = NonNullable<Meeting['identityPolicy']>;

export interface LiveHandlers {
  onState(state: RoomState): void;
  onVideo(message: Uint8Array): void;
  onConnection(connected: boolean): void;
}

export function connectLive(handlers: LiveHandlers): () => void {
  let socket: WebSocket | null = null;
  let closed = false;
  let retry = 500;
  let timer: number | undefined;

  const open = () => {
    const url = new URL('/api/v1/live', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      retry = 500;
      handlers.onConnection(true);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data) as { type: string; state?: RoomState };
        if (message.type === 'state' && message.state !== undefined) handlers.onState(message.state);
      } else if (event.data instanceof ArrayBuffer) {
        handlers.onVideo(new Uint8Array(event.data));
      }
    };
    ws.onclose = () => {
      socket = null;
      if (closed) return;
      handlers.onConnection(false);
      timer = window.setTimeout(open, retry);
      retry = Math.min(retry * 2, 5000);
    };
  };
  open();
  return () => {
    closed = true;
    window.clearTimeout(timer);
    socket?.close();
  };
}

export class CommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export async function command(name: string, body: Record<string, unknown> = {}): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`/api/v1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new CommandError(
      'transport.closed',
      'The room device is not answering. Check that roomd is running.',
    );
  }
  if (response.ok) return;
  let code = 'core.internal';
  let message = 'Something went wrong inside roomd.';
  try {
    const payload = (await response.json()) as { error?: { code?: string; message?: string } };
    code = payload.error?.code ?? code;
    message = payload.error?.message ?? message;
  } catch {
    // keep the generic sentence
  }
  throw new CommandError(code, message);
}
