/**
 * The demo's far end: two meetings booked for the room (one end-to-end encrypted, one enhanced) and
 * simulated people in each, sending real encoded video and audio (ffmpeg test sources) or synthetic
 * frames in tests. Every person except the phone holds a Demo Org certificate (demo/org.ts).
 */
import { existsSync } from 'node:fs';
import { certify, ephemeralIdentity, orgTrust } from '../src/app/bot.ts';
import type { Clock } from '../src/core/clock.ts';
import { RoomdError } from '../src/core/errors.ts';
import type { Logger } from '../src/core/logger.ts';
import { type IdentityCertificate, signMeetingPolicy } from '../src/e2ee/index.ts';
import { createAudioCapture, createVideoCapture, type MediaCapture } from '../src/media/capture.ts';
import { randomMeetingId } from '../src/meeting/booking.ts';
import type { ChatSendError } from '../src/meeting/chat.ts';
import { HeadlessParticipant } from '../src/meeting/headless.ts';
import { toBase64Url } from '../src/protocol/codec.ts';
import type { ClientType, EncryptionMode } from '../src/protocol/vocabulary.ts';
import type { Relay } from '../src/relay/index.ts';
import type { NodeProcessRunner } from '../src/system/process.ts';
import type { WorkerPeerConnectionFactory } from '../src/transport/worker-peer.ts';
import type { DemoOrg, Identity } from './org.ts';

export const DEMO_ROOM = 'Huddle Room 3';

/** Why a demo person's chat message was not sent, in the director's words. */
const CHAT_REFUSED: Record<ChatSendError, string> = {
  'meeting.chat_no_private': 'This meeting has no private messages: it is not end-to-end encrypted.',
  'meeting.chat_invalid': 'A chat message is 1 to 1000 bytes of text, with no control characters.',
  'meeting.chat_unknown_recipient': 'The room does not hold the meeting key yet.',
  'meeting.chat_not_ready': 'That person does not hold the meeting key yet.',
};

/** What a test asks `addFarEndPerson` for. */
export type ExtraPersonKind = 'certified' | 'uncertified' | 'rekeyed';

export interface DemoPerson {
  name: string;
  client: ClientType;
  host: boolean;
}

interface DemoMeeting {
  title: string;
  encryption: EncryptionMode;
  passcode: string | null;
  startInMin: number;
  people: DemoPerson[];
}

const MEETINGS: DemoMeeting[] = [
  {
    title: 'Design review',
    encryption: 'e2ee',
    passcode: '246810',
    startInMin: -5,
    people: [
      { name: 'Alice Moreau', client: 'desktop', host: true },
      { name: 'Bongani Dlamini', client: 'mobile', host: false },
    ],
  },
  {
    title: 'Supplier call',
    encryption: 'enhanced',
    passcode: null,
    startInMin: 55,
    people: [
      { name: 'Chen Wei', client: 'desktop', host: true },
      { name: 'Dial-in +41 44 000 00 00', client: 'phone', host: false },
    ],
  },
];

export interface DemoMeetingInfo {
  id: string;
  title: string;
  encryption: EncryptionMode;
  passcode: string | null;
  bots: HeadlessParticipant[];
}

/** Who a demo bot plays: for the director's status and its host commands. */
export interface BotRole {
  client: ClientType;
  host: boolean;
  /** Put in by the director (addFarEndPerson), not one of the booked people. */
  extra: boolean;
}

export interface CastOptions {
  org: DemoOrg;
  /** The relay the meetings are on (it may be restarted: always the current one). */
  relay: () => Relay;
  log: Logger;
  clock: Clock;
  peers: WorkerPeerConnectionFactory;
  runner: NodeProcessRunner;
  /** 'ffmpeg' sends real VP8/Opus from test sources; 'synthetic' is cheap for tests. */
  botMedia: 'ffmpeg' | 'synthetic';
  /** Test injection point: their E2EE sessions' randomness (MeetingSessionOptions.e2eeRandom). */
  e2eeRandom?: (n: number) => Uint8Array;
}

/** In the meeting now (joining counts: it is on its way in). */
export function isPresent(b: HeadlessParticipant): boolean {
  const st = b.session.snapshot.status;
  return st !== 'left' && st !== 'failed' && st !== 'idle';
}

export class DemoCast {
  readonly meetings: DemoMeetingInfo[] = [];
  readonly #o: CastOptions;
  readonly #captures: MediaCapture[] = [];
  readonly #roles = new WeakMap<HeadlessParticipant, BotRole>();
  /** Who shares slides on the director's word, and the capture that makes them. */
  readonly #shares = new Map<HeadlessParticipant, MediaCapture>();
  #extra = 0;

  constructor(options: CastOptions) {
    this.#o = options;
  }

  /** Book the demo meetings for the room (replacing earlier demo bookings) and let their people in. */
  async book(roomDeviceId: string): Promise<void> {
    const registry = this.#o.relay().registry;
    for (const old of registry.list()) {
      if (old.room === DEMO_ROOM || old.room === roomDeviceId) await registry.delete(old.id);
    }
    const { org, clock } = this.#o;
    for (const spec of MEETINGS) {
      const identities = spec.people.map((p) => org.personIdentity(p.name));
      const hostIndex = spec.people.findIndex((p) => p.host);
      const now = clock.now();
      // The host books it and signs its encryption with its Demo Org certificate, as a person of
      // the room's organization would (docs/protocol.md "Meeting policy"): the room joins the
      // enhanced meeting because a host it trusts booked it so, not because the relay says so.
      const host = identities[hostIndex]!;
      const id = randomMeetingId();
      const policy = signMeetingPolicy(
        {
          meetingId: id,
          encryption: spec.encryption,
          issuedAt: now,
          cert: certify(org.key, host, spec.people[hostIndex]!.name, 'person', now),
        },
        host,
      );
      const record = await registry.create({
        id,
        policy,
        title: spec.title,
        hostIdentityKey: toBase64Url(host.publicKey),
        encryption: spec.encryption,
        passcode: spec.passcode,
        room: roomDeviceId,
        start: new Date(now + spec.startInMin * 60_000).toISOString(),
        end: new Date(now + (spec.startInMin + 60) * 60_000).toISOString(),
        ...(spec.encryption === 'enhanced' ? { joinBeforeHost: true } : {}),
      });
      const info: DemoMeetingInfo = {
        id: record.id,
        title: spec.title,
        encryption: spec.encryption,
        passcode: spec.passcode,
        bots: [],
      };
      for (const [i, person] of spec.people.entries()) {
        // A phone has no identity key to certify; everyone else holds a Demo Org certificate.
        const cert =
          person.client === 'phone'
            ? undefined
            : certify(org.key, identities[i]!, person.name, 'person', now);
        const bot = this.#participant(info, person, i, identities[i]!, cert);
        this.#roles.set(bot, { client: person.client, host: person.host, extra: false });
        info.bots.push(bot);
      }
      // The host first: in an E2EE meeting nobody gets in before the host.
      for (const b of info.bots) await b.join();
      this.meetings.push(info);
    }
    await org.savePeople();
  }

  /** Everyone leaves; the test sources stop. */
  async stop(): Promise<void> {
    await Promise.all(this.meetings.flatMap((m) => m.bots.map((b) => b.leave().catch(() => {}))));
    const shares = [...this.#shares.values()];
    this.#shares.clear();
    await Promise.all([...this.#captures, ...shares].map((c) => c.stop().catch(() => {})));
  }

  /**
   * `bot` shares a slide deck (the `slides` test source with its name on it) on its screen stream,
   * as a laptop's content would be (docs/protocol.md "# Content sharing"). Throws http.conflict when
   * someone else shares (the first to share keeps it) or `bot` shares already.
   */
  shareSlides(bot: HeadlessParticipant): void {
    const { clock } = this.#o;
    if (this.#shares.has(bot))
      throw new RoomdError('http.conflict', { message: `${bot.name} is sharing already.` });
    const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
    const capture = createVideoCapture(
      { type: 'slides', label: bot.name, fontFile: existsSync(font) ? font : null },
      {
        codec: 'vp8',
        width: 1280,
        height: 720,
        framerate: 5,
        bitrateKbps: 800,
        keyframeIntervalMs: 5000,
        niceness: 15,
      },
      { runner: this.#o.runner, clock, logger: this.#o.log.child({ component: 'demo-bots' }) },
    );
    bot.media.attach(capture, 'screen');
    const started = bot.media.share.start(clock.monotonic(), clock.now());
    if (!started.ok) {
      bot.media.detach('screen');
      const by = this.sharerName(bot);
      throw new RoomdError('http.conflict', {
        message: `${by ?? 'Someone'} is sharing: the first to share keeps it.`,
      });
    }
    this.#shares.set(bot, capture);
    capture.start();
  }

  /** `bot` stops sharing its slides; false when it was not sharing them. */
  async stopSlides(bot: HeadlessParticipant): Promise<boolean> {
    const capture = this.#shares.get(bot);
    if (capture === undefined) return false;
    this.#shares.delete(bot);
    bot.media.share.stop(this.#o.clock.monotonic());
    bot.media.detach('screen');
    await capture.stop();
    return true;
  }

  /** Who shares slides on the director's word in `m`. */
  slidesSharer(m: DemoMeetingInfo): HeadlessParticipant | undefined {
    return m.bots.find((b) => this.#shares.has(b));
  }

  /** The name of whoever shares in `bot`'s meeting, as `bot` sees it; null when nobody does. */
  sharerName(bot: HeadlessParticipant): string | null {
    const claim = bot.media.share.sharer(this.#o.clock.monotonic());
    if (claim === null) return null;
    return bot.session.snapshot.participants.find((p) => p.id === claim.id)?.name ?? null;
  }

  /**
   * `bot` sends `text` in the meeting's chat: to everyone, or privately to the room (the member that
   * joined as a room). Throws http.conflict when it cannot be sent (docs/protocol.md "# Chat").
   */
  say(bot: HeadlessParticipant, text: string, to: 'everyone' | 'room'): void {
    const { clock } = this.#o;
    let recipient = 'all';
    if (to === 'room') {
      const room = bot.session.snapshot.participants.find((p) => !p.self && p.clientType === 'room');
      if (room === undefined)
        throw new RoomdError('core.not_found', { message: 'The room is not in the meeting.' });
      recipient = room.id;
    }
    const sent = bot.media.chat.send(text, recipient, clock.monotonic(), clock.now());
    if (!sent.ok)
      throw new RoomdError('http.conflict', {
        message: CHAT_REFUSED[sent.code],
        context: { reason: sent.code },
      });
  }

  role(bot: HeadlessParticipant): BotRole | undefined {
    return this.#roles.get(bot);
  }

  /**
   * A demo meeting by id (digits compared, so "123 456 789" finds "123-456-789"); default: the E2EE
   * one. Throws core.not_found.
   */
  meeting(meetingId: string | undefined): DemoMeetingInfo {
    const m =
      meetingId === undefined
        ? this.meetings.find((x) => x.encryption === 'e2ee')
        : this.meetings.find((x) => x.id.replace(/\D/g, '') === meetingId.replace(/\D/g, ''));
    if (m === undefined)
      throw new RoomdError('core.not_found', { message: 'There is no such demo meeting.' });
    return m;
  }

  /**
   * For tests: put one more far-end person into a demo meeting (default: the E2EE one) — 'uncertified'
   * holds no certificate; 'rekeyed' holds a Demo Org certificate for `name` (default: the meeting's
   * certified non-host person) but a NEW identity key, so a room that pinned that name shows "key
   * changed"; 'certified' is a new Demo Org person. Resolves once joined; stop() makes it leave.
   */
  async addFarEndPerson(o: {
    kind: ExtraPersonKind;
    name?: string;
    meetingId?: string;
  }): Promise<HeadlessParticipant> {
    const m =
      o.meetingId === undefined
        ? this.meetings.find((x) => x.encryption === 'e2ee')
        : this.meetings.find((x) => x.id === o.meetingId);
    const spec = MEETINGS.find((x) => x.title === m?.title);
    if (m === undefined || spec === undefined)
      throw new RoomdError('core.not_found', { message: 'There is no such demo meeting.' });
    const n = ++this.#extra;
    const pinned = spec.people.find((p) => !p.host && p.client !== 'phone') ?? spec.people[0]!;
    const name =
      o.name ??
      (o.kind === 'rekeyed' ? pinned.name : o.kind === 'certified' ? `Demo Guest ${n}` : `Visitor ${n}`);
    const identity = ephemeralIdentity('demo-extra');
    const cert =
      o.kind === 'uncertified'
        ? undefined
        : certify(this.#o.org.key, identity, name, 'person', this.#o.clock.now());
    const bot = this.#participant(
      m,
      { name, client: 'desktop', host: false },
      spec.people.length + n,
      identity,
      cert,
    );
    this.#roles.set(bot, { client: 'desktop', host: false, extra: true });
    m.bots.push(bot);
    await bot.join();
    return bot;
  }

  /** The booked host of `m` joins again (a new bot in the host's place). */
  async rejoinHost(m: DemoMeetingInfo): Promise<string> {
    const spec = MEETINGS.find((x) => x.title === m.title);
    const i = m.bots.findIndex((b) => this.#roles.get(b)?.host === true);
    const person = spec?.people.find((p) => p.host);
    if (spec === undefined || person === undefined || i < 0)
      throw new RoomdError('core.not_found', { message: `"${m.title}" has no host.` });
    if (isPresent(m.bots[i]!))
      throw new RoomdError('http.conflict', {
        message: `${person.name} (the host) is in the meeting already.`,
      });
    const identity = this.#o.org.personIdentity(person.name);
    const cert = certify(this.#o.org.key, identity, person.name, 'person', this.#o.clock.now());
    const bot = this.#participant(m, person, spec.people.indexOf(person), identity, cert);
    this.#roles.set(bot, { client: person.client, host: true, extra: false });
    m.bots[i] = bot;
    await bot.join();
    return person.name;
  }

  /** A participant with no certificate and no media, for a join the meeting service should refuse. */
  stranger(
    m: DemoMeetingInfo,
    who: { client: ClientType; protocol?: number; name: string },
  ): HeadlessParticipant {
    return new HeadlessParticipant({
      meetingId: m.id,
      ...(m.passcode === null ? {} : { passcode: m.passcode }),
      relayUrl: this.#o.relay().address.signalUrl,
      displayName: who.name,
      clientType: who.client,
      ...(who.protocol === undefined ? {} : { protocolVersion: who.protocol }),
      identity: ephemeralIdentity('demo-refused'),
      peers: this.#o.peers,
      clock: this.#o.clock,
      log: this.#o.log.child({ component: 'demo-bots' }),
      videoFps: 0,
      audioFps: 0,
    });
  }

  #participant(
    m: Pick<DemoMeetingInfo, 'id' | 'passcode'>,
    person: DemoPerson,
    i: number,
    identity: Identity,
    certificate: IdentityCertificate | undefined,
  ): HeadlessParticipant {
    const log = this.#o.log.child({ component: 'demo-bots' });
    const { clock, runner } = this.#o;
    const captures =
      this.#o.botMedia === 'ffmpeg'
        ? this.#botCaptures(person, i, { runner, clock, logger: log })
        : undefined;
    return new HeadlessParticipant({
      meetingId: m.id,
      ...(m.passcode === null ? {} : { passcode: m.passcode }),
      relayUrl: this.#o.relay().address.signalUrl,
      displayName: person.name,
      clientType: person.client,
      identity,
      trust: orgTrust(this.#o.org.key, certificate, clock),
      peers: this.#o.peers,
      clock,
      log,
      videoFps: 10,
      audioFps: 25,
      ...(captures === undefined ? {} : { captures }),
      ...(this.#o.e2eeRandom === undefined ? {} : { e2eeRandom: this.#o.e2eeRandom }),
    });
  }

  #botCaptures(
    person: DemoPerson,
    i: number,
    deps: Parameters<typeof createVideoCapture>[2],
  ): MediaCapture[] | undefined {
    if (person.client === 'phone') {
      const audio = createAudioCapture(
        { type: 'test', frequencyHz: 330 + 110 * i },
        { bitrateKbps: 24 },
        deps,
      );
      this.#captures.push(audio);
      return [audio];
    }
    const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
    const video = createVideoCapture(
      { type: 'test', fontFile: existsSync(font) ? font : null, label: person.name },
      // Far-end people are other machines in real life: here they yield to the room under test, and
      // make do with one encoder (no spare: their keyframes come on schedule).
      { codec: 'vp8', width: 320, height: 180, framerate: 12, bitrateKbps: 250, niceness: 15 },
      deps,
      { encoders: 'single' },
    );
    const audio = createAudioCapture({ type: 'test', frequencyHz: 440 + 110 * i }, { bitrateKbps: 24 }, deps);
    this.#captures.push(video, audio);
    return [video, audio];
  }
}
