/**
 * `roomctl demo …` (docs/kiosk-and-admin-api.md §roomctl demo): the director of `roomd demo`. Each
 * subcommand asks the demo room's admin API (`/api/v1/demo/*`, admin scope) to make the far end of
 * a demo meeting do something, and prints what happened. A production room has no such routes:
 * there the commands fail with "not found".
 */
import type { AdminClient } from './client.ts';
import type { CommandResult } from './commands.ts';
import { RoomctlError, RoomctlExit } from './exit.ts';

export const DEMO_USAGE = `Usage: roomctl demo <command> [--meeting ID] [--json]

Makes the far end of the demo's meetings act (roomd demo only), so you can watch the room screen:
  status                    the demo meetings and who is in them
  host-leaves               the host leaves: someone else holds the keys, the security code changes
  host-rejoins              the host comes back (whoever holds the keys keeps them)
  join [--kind K] [--name NAME]
                            someone joins; K: certified (default), uncertified (no certificate),
                            rekeyed (a name the room knows, on a new identity key)
  leave [--name NAME]       someone leaves (default: the last person 'join' added)
  phone-join                a dial-in phone tries to join the end-to-end encrypted meeting: refused
  web-join                  a browser without end-to-end encryption tries to join it: refused
  old-app-join              an app too old for end-to-end encryption tries to join it: refused
  relay-restart             the meeting relay restarts; everyone reconnects
  unplug DEVICE             pull a device's cable; DEVICE: panel, camera, speakerphone or laptop
  replug DEVICE             plug it back in (plug is the same)
  plug laptop               plug the laptop into the room's HDMI capture: the room can share its
                            slides (and shares them at once with room.autoShare on)
  share [--name NAME]       someone at the far end shares slides: the screen shows them large
  unshare                   they stop sharing
  say TEXT [--name NAME]    someone writes TEXT in the chat, to everyone
  whisper TEXT [--name NAME]
                            someone writes TEXT privately to the room (end-to-end encrypted only)

--meeting ID picks the meeting (default: the end-to-end encrypted one). Uses the connection that
'roomctl claim' saved (or --url, --fingerprint, --token).
`;

const SUBCOMMANDS = new Set([
  'status',
  'host-leaves',
  'host-rejoins',
  'join',
  'leave',
  'phone-join',
  'web-join',
  'old-app-join',
  'relay-restart',
  'unplug',
  'replug',
  'plug',
  'share',
  'unshare',
  'say',
  'whisper',
]);

const DEVICES = ['panel', 'camera', 'speakerphone', 'laptop'] as const;
type Device = (typeof DEVICES)[number];
const isDevice = (d: string | undefined): d is Device =>
  (DEVICES as readonly (string | undefined)[]).includes(d);

/** Throws a usage error for a subcommand or `--kind` this file does not know. */
export function checkArgs(sub: string | undefined, rest: readonly string[], kind: string | undefined): void {
  const takesDevice = sub === 'unplug' || sub === 'replug' || sub === 'plug';
  if (takesDevice && (rest.length !== 1 || !isDevice(rest[0])))
    throw new RoomctlError(
      RoomctlExit.usage,
      `roomctl demo ${sub} takes one device: panel, camera, speakerphone or laptop.\n\n${DEMO_USAGE}`,
    );
  const takesText = sub === 'say' || sub === 'whisper';
  if (takesText && rest.join(' ').trim() === '')
    throw new RoomctlError(
      RoomctlExit.usage,
      `roomctl demo ${sub} takes the message to send.\n\n${DEMO_USAGE}`,
    );
  if (sub === undefined || !SUBCOMMANDS.has(sub) || (rest.length > 0 && !takesDevice && !takesText))
    throw new RoomctlError(
      RoomctlExit.usage,
      `Unknown demo command "${[sub ?? '', ...rest].join(' ')}".\n\n${DEMO_USAGE}`,
    );
  if (kind !== undefined && !isKind(kind))
    throw new RoomctlError(
      RoomctlExit.usage,
      `--kind is certified, uncertified or rekeyed.\n\n${DEMO_USAGE}`,
    );
}

const KINDS = ['certified', 'uncertified', 'rekeyed'] as const;
type Kind = (typeof KINDS)[number];

export function isKind(k: string): k is Kind {
  return (KINDS as readonly string[]).includes(k);
}

interface StatusReply {
  relay: string;
  meetings: {
    id: string;
    title: string;
    encryption: string;
    people: { name: string; client: string; host: boolean; present: boolean }[];
  }[];
}

/** The generic answer for a route the device does not have (src/core/errors.ts `core.not_found`). */
const NO_SUCH_ROUTE = 'That does not exist.';

async function call(client: AdminClient, method: string, path: string, body?: unknown): Promise<unknown> {
  try {
    return (await client.call(method, path, body)).json;
  } catch (error) {
    if (error instanceof RoomctlError && error.details.status === 404 && error.message === NO_SUCH_ROUTE)
      throw new RoomctlError(
        RoomctlExit.failure,
        "This room has no demo director: 'roomctl demo' works only with a room started by 'roomd demo' (npm start).",
        error.details,
      );
    throw error;
  }
}

function done(json: unknown): CommandResult {
  return { json, human: (json as { done: string }).done };
}

export async function runDemo(
  client: AdminClient,
  sub: string,
  o: { meetingId?: string; kind?: string; name?: string; device?: string; text?: string },
): Promise<CommandResult> {
  const meeting = o.meetingId === undefined ? {} : { meetingId: o.meetingId };
  switch (sub) {
    case 'status': {
      const s = (await call(client, 'GET', '/api/v1/demo')) as StatusReply;
      const lines = s.meetings.flatMap((m) => [
        `${m.id}  ${m.encryption.padEnd(8)}  ${m.title}`,
        ...m.people.map(
          (p) => `    ${p.present ? 'in  ' : 'out '} ${p.name}${p.host ? ' (host)' : ''}  ${p.client}`,
        ),
      ]);
      return { json: s, human: lines.join('\n') };
    }
    case 'host-leaves':
      return done(await call(client, 'POST', '/api/v1/demo/host/leave', meeting));
    case 'host-rejoins':
      return done(await call(client, 'POST', '/api/v1/demo/host/rejoin', meeting));
    case 'join': {
      const kind = o.kind ?? 'certified';
      if (!isKind(kind))
        throw new RoomctlError(
          RoomctlExit.usage,
          `--kind is certified, uncertified or rekeyed.\n\n${DEMO_USAGE}`,
        );
      return done(
        await call(client, 'POST', '/api/v1/demo/people', {
          ...meeting,
          kind,
          ...(o.name === undefined ? {} : { name: o.name }),
        }),
      );
    }
    case 'leave':
      return done(
        await call(client, 'POST', '/api/v1/demo/people/leave', {
          ...meeting,
          ...(o.name === undefined ? {} : { name: o.name }),
        }),
      );
    case 'phone-join':
    case 'web-join':
    case 'old-app-join': {
      const clientKind = sub === 'phone-join' ? 'phone' : sub === 'web-join' ? 'web' : 'old-app';
      const r = (await call(client, 'POST', '/api/v1/demo/refused-join', {
        ...meeting,
        client: clientKind,
      })) as { refused: boolean; code: string; message: string };
      // Let in: the service broke an E2EE rule. Say so and exit non-zero.
      if (!r.refused) throw new RoomctlError(RoomctlExit.failure, r.message, { code: r.code });
      return { json: r, human: `Refused, as it must be. The meeting service told it: "${r.message}"` };
    }
    case 'relay-restart':
      return done(await call(client, 'POST', '/api/v1/demo/relay/restart'));
    case 'share':
      return done(
        await call(client, 'POST', '/api/v1/demo/share', {
          ...meeting,
          ...(o.name === undefined ? {} : { name: o.name }),
        }),
      );
    case 'unshare':
      return done(await call(client, 'POST', '/api/v1/demo/share/stop', meeting));
    case 'say':
    case 'whisper':
      if (o.text === undefined || o.text.trim() === '')
        throw new RoomctlError(
          RoomctlExit.usage,
          `roomctl demo ${sub} takes the message to send.\n\n${DEMO_USAGE}`,
        );
      return done(
        await call(client, 'POST', '/api/v1/demo/chat', {
          ...meeting,
          ...(o.name === undefined ? {} : { name: o.name }),
          text: o.text,
          to: sub === 'say' ? 'everyone' : 'room',
        }),
      );
    case 'unplug':
    case 'replug':
    case 'plug':
      if (!isDevice(o.device))
        throw new RoomctlError(
          RoomctlExit.usage,
          `Which device: panel, camera, speakerphone or laptop?\n\n${DEMO_USAGE}`,
        );
      return done(
        await call(client, 'POST', '/api/v1/demo/device', { device: o.device, plugged: sub !== 'unplug' }),
      );
    default:
      throw new RoomctlError(RoomctlExit.usage, `Unknown demo command "${sub}".\n\n${DEMO_USAGE}`);
  }
}
