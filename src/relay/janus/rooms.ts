/**
 * The life of the VideoRoom rooms on one Janus instance (docs/decisions/0018-media-planes.md):
 * one room per meeting occurrence, created on its first use and destroyed when the occurrence ends
 * (none is created for one that has ended). Janus keeps a room until it is destroyed, whatever
 * becomes of the session that made it: the rooms of a lost session are remembered (a bounded list)
 * and destroyed once a session on the instance opens again. The instance's plane (plane.ts) owns one.
 */
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { LiveMeeting } from '../live-meeting.ts';
import type { JanusClient } from './client.ts';
import { freshId } from './plane-state.ts';
import * as vr from './videoroom.ts';

/** Rooms of lost sessions remembered for destroying; beyond this the oldest are forgotten. */
const MAX_LOST_ROOMS = 1024;

export interface JanusRoomsOptions {
  client: JanusClient;
  logger: Logger;
  /** Publishers per room (the meeting's participant cap). */
  maxPublishers: number;
  random: () => number;
}

/** A meeting's room: its id (picked before it is created) and its creation. */
interface Room {
  readonly id: number;
  readonly ready: Promise<number>;
}

/** The VideoRoom rooms of one instance's session: created, destroyed, and those lost sessions left. */
export class JanusRooms {
  readonly #client: JanusClient;
  readonly #log: Logger;
  readonly #maxPublishers: number;
  readonly #random: () => number;
  readonly #rooms = new Map<LiveMeeting, Room>();
  /** Occurrences that have ended: no room is created for them again. */
  readonly #ended = new WeakSet<LiveMeeting>();
  /** Rooms left on Janus by lost sessions (or a failed destroy), oldest first. */
  #lostRooms: number[] = [];
  #lostRoomsForgotten = 0;
  #purging = false;
  #admin: Promise<number> | undefined;
  readonly #destroying = new Set<Promise<void>>();

  constructor(options: JanusRoomsOptions) {
    this.#client = options.client;
    this.#log = options.logger;
    this.#maxPublishers = options.maxPublishers;
    this.#random = options.random;
  }

  /** Rooms of the current session (created or being created). */
  get size(): number {
    return this.#rooms.size;
  }

  /** The meeting's room, created on first use; refused for an occurrence that has ended. */
  room(m: LiveMeeting): Promise<number> {
    const have = this.#rooms.get(m);
    if (have !== undefined) return have.ready;
    if (this.#ended.has(m))
      return Promise.reject(
        new RoomdError('relay.media_plane_failed', { message: 'The meeting occurrence has ended.' }),
      );
    const id = freshId(this.#random, (n) => this.#roomTaken(n));
    const ready = (async () => {
      await vr.createRoom(this.#client, await this.#adminHandle(), id, this.#maxPublishers);
      this.#log.info({ meeting: m.record.id, instance: m.instanceId, room: id }, 'Janus room created');
      return id;
    })();
    const room: Room = { id, ready };
    this.#rooms.set(m, room);
    ready.catch((error: unknown) => {
      if (this.#rooms.get(m) === room) this.#rooms.delete(m);
      // Unanswered: Janus may have made it all the same.
      if (
        error instanceof RoomdError &&
        (error.code === 'core.timeout' || error.code === 'transport.disconnected')
      )
        this.#rememberLost([id]);
    });
    return ready;
  }

  /** The occurrence has ended: its room is destroyed (once created, if that is under way). */
  end(m: LiveMeeting): void {
    this.#ended.add(m);
    const room = this.#rooms.get(m);
    if (room === undefined) return;
    this.#rooms.delete(m);
    this.#track(
      (async () => {
        // Not created: its failure was the offer's to report, and room() remembered the id if needed.
        const created = await room.ready.then(
          () => true,
          () => false,
        );
        if (!created) return;
        try {
          await vr.destroyRoom(this.#client, await this.#adminHandle(), room.id);
        } catch (error) {
          if (!(error instanceof RoomdError)) throw error;
          this.#log.debug({ err: errorText(error) }, 'could not destroy a Janus room; tried again later');
          this.#rememberLost([room.id]);
        }
      })(),
    );
  }

  /**
   * A session on the instance is open (again): destroys the rooms lost sessions left on Janus.
   * "No such room" counts as destroyed; what fails is remembered for the next session.
   */
  sessionOpened(): void {
    if (this.#purging || this.#lostRooms.length === 0 || this.#client.session === undefined) return;
    this.#purging = true;
    const ids = this.#lostRooms.splice(0);
    this.#track(
      (async () => {
        try {
          const admin = await this.#adminHandle();
          while (ids.length > 0) {
            await vr.destroyRoom(this.#client, admin, ids[0]!);
            ids.shift();
          }
          this.#log.info('Janus rooms of a lost session destroyed');
        } catch (error) {
          if (!(error instanceof RoomdError)) throw error;
          this.#log.debug({ err: errorText(error), left: ids.length }, 'could not destroy lost Janus rooms');
          this.#rememberLost(ids);
        } finally {
          this.#purging = false;
        }
      })(),
    );
  }

  /**
   * The Janus session is gone, and the admin handle with it. Its rooms stay on Janus until
   * destroyed: they are remembered for the next session (sessionOpened).
   */
  sessionLost(): void {
    this.#rememberLost([...this.#rooms.values()].map((r) => r.id));
    this.#rooms.clear();
    this.#admin = undefined;
  }

  /** Ends every room and destroys the lost ones; resolves once that work is done (each request has its deadline). */
  async close(): Promise<void> {
    for (const m of [...this.#rooms.keys()]) this.end(m);
    this.sessionOpened();
    await Promise.allSettled([...this.#destroying]);
  }

  /** Room work close() waits for; an error that is not a RoomdError is a bug, logged here as the last resort. */
  #track(work: Promise<void>): void {
    const done = work
      .catch((error: unknown) => this.#log.error({ err: errorText(error) }, 'destroying Janus rooms failed'))
      .finally(() => this.#destroying.delete(done));
    this.#destroying.add(done);
  }

  #adminHandle(): Promise<number> {
    if (this.#admin === undefined) {
      const admin = this.#client.attach(vr.VIDEOROOM_PLUGIN);
      this.#admin = admin;
      admin.catch(() => {
        if (this.#admin === admin) this.#admin = undefined;
      });
    }
    return this.#admin;
  }

  #rememberLost(ids: readonly number[]): void {
    for (const id of ids) if (!this.#lostRooms.includes(id)) this.#lostRooms.push(id);
    const over = this.#lostRooms.length - MAX_LOST_ROOMS;
    if (over <= 0) return;
    this.#lostRooms.splice(0, over);
    if (this.#lostRoomsForgotten === 0)
      this.#log.warn(
        { limit: MAX_LOST_ROOMS },
        'too many Janus rooms left to destroy; forgetting the oldest',
      );
    this.#lostRoomsForgotten += over;
  }

  #roomTaken(id: number): boolean {
    if (this.#lostRooms.includes(id)) return true;
    for (const r of this.#rooms.values()) if (r.id === id) return true;
    return false;
  }
}

/** An error's message for a log line. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
