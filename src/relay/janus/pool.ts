/**
 * The Janus media plane over one or several Janus instances (docs/decisions/0018-media-planes.md,
 * "Several instances"). Each meeting occurrence is placed on one instance (placement.ts) by its first
 * offer and stays there while the instance is up; the work on an instance is plane.ts's.
 *
 * - Every instance is connected at start and, while down, probed every `probeMs` (a new session);
 *   an instance is up from a session opened until that session is lost. A session opened after a
 *   lost one first destroys the rooms the lost one left on Janus (plane.ts).
 * - An instance whose session is lost (its socket closed, a keepalive unanswered, Janus said the
 *   session timed out) goes down: its participants are told `media-lost` by plane.ts, its meetings
 *   are unplaced, and their offers that follow land on an instance that is up.
 * - A participant's later messages (candidates, its downlink answer, leaving) go to the instance
 *   that holds its handles; an offer on a different instance lets go of the old ones first.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { IceCandidate } from '../../transport/peer.ts';
import type { LiveMeeting, Participant } from '../live-meeting.ts';
import type {
  JanusInstanceCounts,
  JanusInstanceStats,
  MediaHost,
  MediaPlane,
  MediaPlaneStats,
} from '../media-plane.ts';
import type { JanusConnect } from './client.ts';
import { type InstanceHealth, nextHealth, placeMeeting } from './placement.ts';
import { JanusInstancePlane } from './plane.ts';

export interface JanusMediaPlaneOptions {
  /** WebSocket API URLs of the instances (at least one). */
  urls: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Publishers per room (the meeting's participant cap). */
  maxPublishers: number;
  /** How often an instance that is down is tried again (default 1 s). */
  probeMs?: number;
  connect?: JanusConnect;
  requestTimeoutMs?: number;
  random?: () => number;
}

interface Instance {
  readonly url: string;
  readonly plane: JanusInstancePlane;
  health: InstanceHealth;
  probing: boolean;
  downs: number;
}

export class JanusMediaPlane implements MediaPlane {
  readonly kind = 'janus' as const;
  readonly #instances: Instance[];
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #placed = new Map<LiveMeeting, Instance>();
  readonly #where = new Map<Participant, Instance>();
  readonly #probe: TimerHandle;
  #meetingsMoved = 0;
  #closed = false;

  constructor(options: JanusMediaPlaneOptions) {
    if (options.urls.length === 0)
      throw new RoomdError('config.invalid', {
        message: 'The Janus media plane needs at least one instance.',
      });
    this.#log = options.logger.child({ component: 'janus-pool' });
    this.#clock = options.clock;
    this.#instances = options.urls.map((url) => {
      const plane = new JanusInstancePlane({
        url,
        clock: options.clock,
        logger: options.logger,
        maxPublishers: options.maxPublishers,
        ...(options.connect === undefined ? {} : { connect: options.connect }),
        ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
        ...(options.random === undefined ? {} : { random: options.random }),
      });
      const inst: Instance = { url, plane, health: 'down', probing: false, downs: 0 };
      // Registered after plane.ts's own listener: its participants have been told by then.
      plane.client.events.on('down', () => this.#report(inst, 'session-lost'));
      return inst;
    });
    for (const inst of this.#instances) this.#tryUp(inst);
    this.#probe = this.#clock.setInterval(() => {
      for (const inst of this.#instances) if (inst.health === 'down') this.#tryUp(inst);
    }, options.probeMs ?? 1000);
  }

  offer(host: MediaHost, p: Participant, sdp: string): void {
    const inst = this.#placeOf(p.meeting);
    const was = this.#where.get(p);
    if (was !== undefined && was !== inst) was.plane.detach(p);
    this.#where.set(p, inst);
    inst.plane.offer(host, p, sdp);
  }

  candidate(p: Participant, c: IceCandidate, pc: 'up' | 'down'): void {
    this.#where.get(p)?.plane.candidate(p, c, pc);
  }

  downAnswer(host: MediaHost, p: Participant, sdp: string): void {
    const inst = this.#where.get(p);
    if (inst === undefined)
      throw new RoomdError('protocol.unexpected', { message: 'No downlink offer is waiting for an answer.' });
    inst.plane.downAnswer(host, p, sdp);
  }

  detach(p: Participant): void {
    this.#where.get(p)?.plane.detach(p);
    this.#where.delete(p);
  }

  selectionChanged(m: LiveMeeting): void {
    this.#placed.get(m)?.plane.selectionChanged(m);
  }

  end(m: LiveMeeting): void {
    this.#placed.delete(m);
    // A meeting moved off a lost instance has no room left there; ending it anywhere else is a no-op.
    for (const inst of this.#instances) inst.plane.end(m);
  }

  stats(): MediaPlaneStats {
    const instances: JanusInstanceStats[] = this.#instances.map((inst) => {
      let meetings = 0;
      let participants = 0;
      for (const [m, on] of this.#placed)
        if (on === inst) {
          meetings++;
          participants += m.participants.size;
        }
      return {
        url: inst.url,
        health: inst.health,
        meetings,
        participants,
        downs: inst.downs,
        ...inst.plane.counts(),
      };
    });
    const sum = (k: keyof Omit<JanusInstanceCounts, 'connected'>): number =>
      instances.reduce((n, i) => n + i[k], 0);
    return {
      kind: 'janus',
      janus: {
        connected: instances.some((i) => i.connected),
        rooms: sum('rooms'),
        publishers: sum('publishers'),
        subscribers: sum('subscribers'),
        requestsFailed: sum('requestsFailed'),
        reconnects: sum('reconnects'),
        malformed: sum('malformed'),
        instancesUp: instances.filter((i) => i.health === 'up').length,
        meetingsMoved: this.#meetingsMoved,
        instances,
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clock.clear(this.#probe);
    this.#placed.clear();
    this.#where.clear();
    await Promise.all(this.#instances.map((inst) => inst.plane.close()));
  }

  // ---- internals ----------------------------------------------------------------------------

  #placeOf(m: LiveMeeting): Instance {
    const placed = this.#placed.get(m);
    if (placed !== undefined) return placed;
    const loads = this.#instances.map((inst) => {
      let participants = 0;
      for (const [other, on] of this.#placed) if (on === inst) participants += other.participants.size;
      return { up: inst.health === 'up', participants, rooms: inst.plane.counts().rooms };
    });
    const inst = this.#instances[placeMeeting(loads) ?? 0]!;
    this.#placed.set(m, inst);
    this.#log.info(
      { meeting: m.record.id, instance: m.instanceId, janus: inst.url, up: inst.health === 'up' },
      'meeting placed on a Janus instance',
    );
    return inst;
  }

  /** Opens a session on an instance that is down; it is up once Janus answers. */
  #tryUp(inst: Instance): void {
    if (inst.probing || this.#closed) return;
    inst.probing = true;
    inst.plane.client
      .ready()
      .then(
        () => {
          this.#report(inst, 'session-opened');
          inst.plane.sessionOpened();
        },
        (error: unknown) => {
          // Still down (refused, unreachable, no answer in time): the next probe tries again.
          if (!(error instanceof RoomdError))
            this.#log.error({ janus: inst.url, err: String(error) }, 'probing a Janus instance failed');
        },
      )
      .finally(() => {
        inst.probing = false;
      });
  }

  #report(inst: Instance, report: 'session-opened' | 'session-lost'): void {
    if (this.#closed) return;
    const next = nextHealth(inst.health, report);
    if (next.health === 'up' && inst.health === 'down')
      this.#log.info({ janus: inst.url }, 'Janus instance up');
    inst.health = next.health;
    if (next.wentDown) {
      inst.downs++;
      this.#log.warn({ janus: inst.url }, 'Janus instance down; its meetings move');
    }
    if (!next.evacuate) return;
    for (const [m, on] of [...this.#placed])
      if (on === inst) {
        this.#placed.delete(m);
        this.#meetingsMoved++;
      }
  }
}
