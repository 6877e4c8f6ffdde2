/**
 * The VideoRoom requests the media plane makes (docs/decisions/0018-media-planes.md),
 * typed over JanusClient: rooms, a publisher per participant whose offer Janus answers, and a
 * subscriber per participant for which Janus offers every other publisher's data channel. Each
 * reply is decoded totally; a refusal or an unexpected shape is a typed error.
 */
import { RoomdError } from '../../core/errors.ts';
import type { JanusClient, PluginReply } from './client.ts';
import { decodeVideoRoom, type Jsep, type VideoRoomData, type VideoRoomSchemas } from './messages.ts';

export const VIDEOROOM_PLUGIN = 'janus.plugin.videoroom';
/** Janus's "no such feed" and "no such room": already gone, which is what was asked. */
export const JANUS_NO_SUCH_FEED = 428;
export const JANUS_NO_SUCH_ROOM = 426;

function expect<K extends keyof typeof VideoRoomSchemas>(kind: K, reply: PluginReply): VideoRoomData[K] {
  const d = decodeVideoRoom(kind, reply.data);
  if (!d.ok) throw d.error;
  return d.value;
}

function needJsep(reply: PluginReply, type: Jsep['type'], what: string): Jsep {
  if (reply.jsep?.type !== type)
    throw new RoomdError('relay.media_plane_failed', { message: `Janus sent no ${type} with "${what}".` });
  return reply.jsep;
}

/** A VideoRoom "event" reply that carries an error is a refusal. */
function refusedEvent(data: VideoRoomData['event'], what: string): void {
  if (data.error_code !== undefined)
    throw new RoomdError('relay.media_plane_failed', {
      message: `Janus refused "${what}" (${data.error_code}).`,
      context: { janusError: data.error_code },
    });
}

export async function createRoom(
  c: JanusClient,
  handle: number,
  room: number,
  publishers: number,
): Promise<void> {
  expect(
    'created',
    await c.message(handle, { request: 'create', room, publishers, permanent: false, is_private: true }),
  );
}

export async function destroyRoom(c: JanusClient, handle: number, room: number): Promise<void> {
  try {
    expect('destroyed', await c.message(handle, { request: 'destroy', room, permanent: false }));
  } catch (error) {
    if (error instanceof RoomdError && error.context.janusError === JANUS_NO_SUCH_ROOM) return;
    throw error;
  }
}

export async function joinPublisher(
  c: JanusClient,
  handle: number,
  room: number,
  feed: number,
): Promise<void> {
  expect('joined', await c.message(handle, { request: 'join', ptype: 'publisher', room, id: feed }));
}

/** Publishes the participant's offer; resolves with Janus's answer. */
export async function publish(c: JanusClient, handle: number, offer: Jsep): Promise<Jsep> {
  const reply = await c.message(handle, { request: 'publish' }, offer);
  const data = expect('event', reply);
  refusedEvent(data, 'publish');
  return needJsep(reply, 'answer', 'publish');
}

const streams = (feeds: readonly number[]) => feeds.map((feed) => ({ feed, mid: '0' }));

/** Joins a subscriber to `feeds`' data channels; resolves with Janus's offer. */
export async function joinSubscriber(
  c: JanusClient,
  handle: number,
  room: number,
  feeds: readonly number[],
): Promise<Jsep> {
  const reply = await c.message(handle, {
    request: 'join',
    ptype: 'subscriber',
    room,
    streams: streams(feeds),
  });
  expect('attached', reply);
  return needJsep(reply, 'offer', 'join');
}

export async function start(c: JanusClient, handle: number, answer: Jsep): Promise<void> {
  const data = expect('event', await c.message(handle, { request: 'start' }, answer));
  refusedEvent(data, 'start');
}

/**
 * Adds and removes feeds on a started subscriber. Janus renegotiates only when the data m-line is
 * new, so this usually resolves without an offer; when it sends one, the caller forwards it.
 */
export async function update(
  c: JanusClient,
  handle: number,
  subscribe: readonly number[],
  unsubscribe: readonly number[],
): Promise<Jsep | undefined> {
  const body: Record<string, unknown> = { request: 'update' };
  if (subscribe.length > 0) body.subscribe = streams(subscribe);
  if (unsubscribe.length > 0) body.unsubscribe = unsubscribe.map((feed) => ({ feed }));
  const reply = await c.message(handle, body);
  const kind = (reply.data as { videoroom?: unknown }).videoroom;
  if (kind === 'event') refusedEvent(expect('event', reply), 'update');
  else expect('updated', reply);
  return reply.jsep?.type === 'offer' ? reply.jsep : undefined;
}
