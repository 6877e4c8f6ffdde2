/**
 * The demo's director (docs/kiosk-and-admin-api.md §roomctl demo): admin routes that make the far
 * end of the demo's meetings do things — the host leaves or comes back, someone joins or leaves, a
 * phone or an old app tries to join the end-to-end encrypted meeting and is refused, the meeting
 * relay restarts, a device is unplugged and plugged back in, a laptop is plugged into the room's HDMI
 * capture (docs/hardware.md §Content sharing), someone shares slides or writes in the chat. Only `roomd demo` registers this plugin (demo/run.ts); a production room
 * never has these routes. Every route needs the `admin` scope.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorBody } from '../errors.ts';

const strict = { additionalProperties: false } as const;
const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const security = [{ session: [], csrf: [] }, { token: [] }];

const MeetingRef = Type.Optional(
  Type.String({
    pattern: '^[0-9][0-9 -]{5,20}[0-9]$',
    description: 'which demo meeting (default: the end-to-end encrypted one)',
  }),
);
const PersonName = Type.String({ minLength: 1, maxLength: 64 });

export const DemoMeetingBody = Type.Object({ meetingId: MeetingRef }, strict);
export const DemoPersonBody = Type.Object(
  {
    meetingId: MeetingRef,
    kind: Type.Union([Type.Literal('certified'), Type.Literal('uncertified'), Type.Literal('rekeyed')], {
      description:
        'certified: a new Demo Org person; uncertified: no certificate; rekeyed: a known name on a new identity key',
    }),
    name: Type.Optional(PersonName),
  },
  strict,
);
export const DemoLeaveBody = Type.Object(
  {
    meetingId: MeetingRef,
    name: Type.Optional(Type.String({ ...PersonName, description: 'default: the last person added' })),
  },
  strict,
);
export const DemoRefusedBody = Type.Object(
  {
    meetingId: MeetingRef,
    client: Type.Union([Type.Literal('phone'), Type.Literal('web'), Type.Literal('old-app')], {
      description: 'phone: telephone dial-in; web: a browser; old-app: a desktop app below the E2EE protocol',
    }),
  },
  strict,
);

export const DemoDeviceBody = Type.Object(
  {
    device: Type.Union(
      [Type.Literal('panel'), Type.Literal('camera'), Type.Literal('speakerphone'), Type.Literal('laptop')],
      { description: "laptop: the laptop on the table, plugged into the room's HDMI capture" },
    ),
    plugged: Type.Boolean({ description: 'false: pull the cable; true: plug it back in' }),
  },
  strict,
);

export const DemoShareBody = Type.Object(
  {
    meetingId: MeetingRef,
    name: Type.Optional(
      Type.String({ ...PersonName, description: 'who shares (default: the first one in, not a phone)' }),
    ),
  },
  strict,
);
export const DemoChatBody = Type.Object(
  {
    meetingId: MeetingRef,
    name: Type.Optional(
      Type.String({ ...PersonName, description: 'who writes (default: the first one in, not a phone)' }),
    ),
    text: Type.String({ minLength: 1, maxLength: 1000, description: 'the message' }),
    to: Type.Union([Type.Literal('everyone'), Type.Literal('room')], {
      description: 'everyone, or privately to the room (end-to-end encrypted meetings only)',
    }),
  },
  strict,
);

export const DemoPerson = Type.Object({
  name: Type.String(),
  client: Type.String(),
  host: Type.Boolean(),
  present: Type.Boolean({ description: 'in the meeting now' }),
});
export const DemoStatusReply = Type.Object({
  relay: Type.String({ description: "the demo relay's signaling URL" }),
  meetings: Type.Array(
    Type.Object({
      id: Type.String(),
      title: Type.String(),
      encryption: Type.String(),
      people: Type.Array(DemoPerson),
    }),
  ),
});
export type DemoStatusReply = Static<typeof DemoStatusReply>;

export const DemoDoneReply = Type.Object({
  done: Type.String({ description: 'what happened, in plain words' }),
});
export const DemoRefusedReply = Type.Object({
  refused: Type.Boolean({ description: 'false only if the meeting service let it in (a bug)' }),
  code: Type.String(),
  reason: Type.Optional(
    Type.String({ description: "the meeting service's reason, e.g. client_not_allowed" }),
  ),
  message: Type.String({ description: 'what the meeting service told the client' }),
});
export type DemoRefusedReply = Static<typeof DemoRefusedReply>;

type MeetingArg = { meetingId?: string };
type DemoDeviceName = Static<typeof DemoDeviceBody>['device'];

/** What the routes need from the demo environment (demo/director.ts implements it). */
export interface DemoDirector {
  status(): DemoStatusReply;
  hostLeaves(o: MeetingArg): Promise<string>;
  hostRejoins(o: MeetingArg): Promise<string>;
  personJoins(
    o: MeetingArg & { kind: 'certified' | 'uncertified' | 'rekeyed'; name?: string },
  ): Promise<string>;
  personLeaves(o: MeetingArg & { name?: string }): Promise<string>;
  refusedJoin(o: MeetingArg & { client: 'phone' | 'web' | 'old-app' }): Promise<DemoRefusedReply>;
  restartRelay(): Promise<string>;
  share(o: MeetingArg & { name?: string }): Promise<string>;
  unshare(o: MeetingArg): Promise<string>;
  say(o: MeetingArg & { name?: string; text: string; to: 'everyone' | 'room' }): Promise<string>;
  unplug(o: { device: DemoDeviceName }): Promise<string>;
  replug(o: { device: DemoDeviceName }): Promise<string>;
}

export function demoDirectorRoutes(director: DemoDirector): FastifyPluginAsync {
  const s = (summary: string, extra: Record<string, unknown>) => ({
    config: { scope: 'admin' as const },
    schema: { tags: ['demo'], security, summary, description: 'Demo only. Token scope: admin.', ...extra },
  });
  const done = { 200: DemoDoneReply, ...errors };
  return async (app) => {
    app.get(
      '/api/v1/demo',
      s('The demo meetings and who is in them', { response: { 200: DemoStatusReply, ...errors } }),
      async () => director.status(),
    );
    app.post<{ Body: Static<typeof DemoMeetingBody> }>(
      '/api/v1/demo/host/leave',
      s('The host leaves the meeting', { body: DemoMeetingBody, response: done }),
      async (request) => ({ done: await director.hostLeaves(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoMeetingBody> }>(
      '/api/v1/demo/host/rejoin',
      s('The host joins the meeting again', { body: DemoMeetingBody, response: done }),
      async (request) => ({ done: await director.hostRejoins(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoPersonBody> }>(
      '/api/v1/demo/people',
      s('Someone new joins the meeting', { body: DemoPersonBody, response: done }),
      async (request) => ({ done: await director.personJoins(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoLeaveBody> }>(
      '/api/v1/demo/people/leave',
      s('Someone the director added leaves', { body: DemoLeaveBody, response: done }),
      async (request) => ({ done: await director.personLeaves(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoRefusedBody> }>(
      '/api/v1/demo/refused-join',
      s('A phone, a browser or an old app tries to join', {
        body: DemoRefusedBody,
        response: { 200: DemoRefusedReply, ...errors },
      }),
      async (request) => director.refusedJoin(request.body),
    );
    app.post('/api/v1/demo/relay/restart', s('The meeting relay restarts', { response: done }), async () => ({
      done: await director.restartRelay(),
    }));
    app.post<{ Body: Static<typeof DemoShareBody> }>(
      '/api/v1/demo/share',
      s('Someone at the far end shares slides', { body: DemoShareBody, response: done }),
      async (request) => ({ done: await director.share(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoMeetingBody> }>(
      '/api/v1/demo/share/stop',
      s('The far-end share the director started stops', { body: DemoMeetingBody, response: done }),
      async (request) => ({ done: await director.unshare(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoChatBody> }>(
      '/api/v1/demo/chat',
      s('Someone at the far end writes in the chat', { body: DemoChatBody, response: done }),
      async (request) => ({ done: await director.say(request.body) }),
    );
    app.post<{ Body: Static<typeof DemoDeviceBody> }>(
      '/api/v1/demo/device',
      s("A device's cable is pulled or plugged back in", { body: DemoDeviceBody, response: done }),
      async (request) => ({
        done: request.body.plugged
          ? await director.replug({ device: request.body.device })
          : await director.unplug({ device: request.body.device }),
      }),
    );
  };
}
