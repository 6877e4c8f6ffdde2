/**
 * Fakes of the HTTP layer's ports (src/http/ports.ts) for inject() tests and the kiosk e2e test:
 * a room whose Join walks through joining → in meeting (E2EE or enhanced, by the schedule),
 * an admin backend that records calls, and a video feed the test pushes messages into.
 */
import { RoomdError } from '../../src/core/errors.ts';
import type { AdminBackend, HealthReport, MeetingToSchedule, RoomStateSource } from '../../src/http/ports.ts';
import { validChatText } from '../../src/meeting/chat.ts';
import type { PtzCommand, RoomCommands } from '../../src/protocol/room-commands.ts';
import type { Reaction } from '../../src/protocol/vocabulary.ts';
import type {
  ChatMessage,
  MeetingState,
  Participant,
  ParticipantIdentity,
  RoomSnapshot,
  ScheduledMeeting,
} from '../../src/http/schemas/state.ts';

export const E2EE_CODE = '12345 67890 13579 24680 11223 34455 66778 89900';
export const NEW_CODE = '98765 43210 55555 01234 77777 24242 31415 92653';

const E2EE_DISABLED = [
  'Join before host',
  'Cloud recording',
  'Live streaming',
  'Live transcription',
  'Breakout rooms',
  'Polling',
].map((feature) => ({ feature, reason: 'Off in end-to-end encrypted meetings' }));

export function demoSchedule(now = Date.now()): ScheduledMeeting[] {
  const at = (min: number) => new Date(now + min * 60_000).toISOString();
  return [
    {
      meetingId: '81234567890',
      title: 'Board review (E2EE)',
      start: at(-5),
      end: at(55),
      encryption: 'e2ee',
    },
    { meetingId: '89876543210', title: 'All hands', start: at(90), end: at(150), encryption: 'enhanced' },
  ];
}

export class FakeRoom implements RoomStateSource, RoomCommands {
  state: RoomSnapshot;
  readonly calls: { name: string; args: unknown[] }[] = [];
  /** ms between join steps; 0 = synchronous (unit tests) */
  stepMs: number;
  failNextJoin: RoomdError | null = null;
  /** The room's `room.chat` setting. */
  chatEnabled = true;
  /** The room has a content source (`devices.content.video`, or the demo's test picture). */
  canShare = true;
  #chatIds = 0;
  readonly #listeners = new Set<(s: RoomSnapshot) => void>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: { stepMs?: number; name?: string } = {}) {
    this.stepMs = options.stepMs ?? 0;
    this.state = {
      room: { name: options.name ?? 'Fjord' },
      deviceId: 'rd-7f3a9c21',
      addresses: ['192.168.1.40'],
      schedule: demoSchedule(),
      meeting: null,
      devices: [
        {
          id: 'cam0',
          kind: 'camera',
          name: 'PTZ camera',
          status: 'ok',
          presets: [
            { id: 1, name: 'Table' },
            { id: 2, name: 'Whiteboard' },
          ],
        },
        { id: 'spk0', kind: 'speakerphone', name: 'Speakerphone', status: 'ok' },
      ],
      errors: [],
      media: null,
    };
  }

  getState(): RoomSnapshot {
    return this.state;
  }

  subscribe(listener: (s: RoomSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  update(patch: Partial<RoomSnapshot>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.#listeners) l(this.state);
  }

  updateMeeting(patch: Partial<MeetingState>): void {
    if (this.state.meeting === null) throw new Error('no meeting');
    this.update({ meeting: { ...this.state.meeting, ...patch } });
  }

  /** A new leader: new epoch and security code, banner on. */
  changeLeader(code = NEW_CODE): void {
    const m = this.state.meeting!;
    this.updateMeeting({
      leader: 'p-alice',
      epoch: m.epoch + 1,
      securityCode: code,
      securityCodeChanged: true,
    });
  }

  /** Someone joins: listed last, and the roster code changes (as it does on every join). */
  addParticipant(p: Participant, rosterCode = '24680 13579 86420 97531'): void {
    const m = this.state.meeting!;
    this.updateMeeting({ participants: [...m.participants, p], rosterCode });
  }

  /** Set what is known about one participant's identity (`verified` follows it). */
  setIdentity(participantId: string, identity: ParticipantIdentity): void {
    const m = this.state.meeting!;
    this.updateMeeting({
      participants: m.participants.map((p) =>
        p.id === participantId ? { ...p, identity, verified: identity.status === 'verified' } : p,
      ),
    });
  }

  /**
   * The key certified for this participant's (organization, name) before is not the key it holds
   * now: the alarm case. Keeps the certificate's organization, name and kind.
   */
  changeIdentityKey(participantId: string, fingerprint = 'dead beef 0bad f00d'): void {
    const p = this.state.meeting?.participants.find((x) => x.id === participantId);
    if (p === undefined || p.identity.status !== 'verified')
      throw new Error(`${participantId} is not verified`);
    const { org, certifiedName, kind } = p.identity;
    this.setIdentity(participantId, { status: 'key-changed', org, certifiedName, kind, fingerprint });
  }

  dispose(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #later(fn: () => void, n: number): void {
    if (this.stepMs === 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, this.stepMs * n);
    this.#timers.add(t);
  }

  async join(meetingId: string, passcode?: string): Promise<void> {
    this.calls.push({ name: 'join', args: passcode === undefined ? [meetingId] : [meetingId, passcode] });
    if (this.failNextJoin !== null) {
      const e = this.failNextJoin;
      this.failNextJoin = null;
      throw e;
    }
    if (this.state.meeting !== null) throw new RoomdError('meeting.already_in_meeting');
    const scheduled = this.state.schedule.find((s) => s.meetingId === meetingId);
    if (scheduled === undefined && meetingId !== '85550001111')
      throw new RoomdError('relay.meeting_not_found');
    const encryption = scheduled?.encryption ?? 'e2ee';
    const steps = [
      'Contacting the meeting service',
      'Checking encryption',
      'Exchanging keys',
      'Starting camera and microphone',
    ];
    const stepState = (i: number) =>
      steps.map((label, j) => ({ label, state: j < i ? 'done' : j === i ? 'active' : 'pending' }) as const);
    this.update({
      meeting: {
        id: meetingId,
        title: scheduled?.title ?? 'Meeting',
        status: 'joining',
        encryption,
        shield: 'verifying',
        securityCode: null,
        securityCodeChanged: false,
        identityPolicy: 'warn',
        epoch: 0,
        leader: null,
        participants: [],
        disabledFeatures: [],
        joinSteps: stepState(0),
        muted: false,
        cameraOn: true,
        volume: 60,
        chat: [],
        chatEnabled: this.chatEnabled,
        share: { active: false, self: false, by: null, canShare: this.canShare, host: false },
      },
    });
    this.#later(() => this.updateMeeting({ joinSteps: stepState(2) }), 1);
    this.#later(
      () =>
        this.updateMeeting({
          status: 'in_meeting',
          joinSteps: stepState(4),
          shield: encryption,
          securityCode: encryption === 'e2ee' ? E2EE_CODE : null,
          epoch: 1,
          leader: 'p-room',
          // Identities exist only in E2EE meetings (src/meeting/status.ts participantsFrom).
          participants: [
            {
              id: 'p-room',
              name: this.state.room.name,
              clientType: 'room',
              ...(encryption === 'e2ee'
                ? {
                    verified: true,
                    keyed: true,
                    identity: verifiedAs(this.state.room.name, 'room', '1a2b 3c4d 5e6f 7a8b'),
                  }
                : NO_IDENTITY),
              self: true,
            },
            {
              id: 'p-alice',
              name: 'Alice Smith',
              clientType: 'desktop',
              // Certified under her full name; she joined as "Alice Smith".
              ...(encryption === 'e2ee'
                ? {
                    verified: true,
                    keyed: true,
                    identity: verifiedAs('Alice J. Smith', 'person', '9c8d 7e6f 5a4b 3c2d'),
                  }
                : NO_IDENTITY),
            },
            {
              id: 'p-bob',
              name: 'Bob Jones',
              clientType: 'mobile',
              verified: false,
              keyed: encryption === 'e2ee',
              identity:
                encryption === 'e2ee'
                  ? { status: 'unverified', fingerprint: '0f1e 2d3c 4b5a 6978', reason: 'no certificate' }
                  : { status: 'none' },
            },
          ],
          rosterCode: encryption === 'e2ee' ? '12345 67890 13579 24680' : null,
          disabledFeatures: encryption === 'e2ee' ? E2EE_DISABLED : [],
        }),
      2,
    );
  }

  async leave(): Promise<void> {
    this.calls.push({ name: 'leave', args: [] });
    if (this.state.meeting === null) throw new RoomdError('meeting.not_in_meeting');
    this.update({ meeting: null });
  }

  async setMute(muted: boolean): Promise<void> {
    this.calls.push({ name: 'setMute', args: [muted] });
    if (this.state.meeting === null) throw new RoomdError('meeting.not_in_meeting');
    this.updateMeeting({ muted });
  }

  async setCamera(enabled: boolean): Promise<void> {
    this.calls.push({ name: 'setCamera', args: [enabled] });
    if (this.state.meeting !== null) this.updateMeeting({ cameraOn: enabled });
  }

  async setVolume(level: number): Promise<void> {
    this.calls.push({ name: 'setVolume', args: [level] });
    if (this.state.meeting !== null) this.updateMeeting({ volume: level });
  }

  async ptz(command: PtzCommand): Promise<void> {
    this.calls.push({ name: 'ptz', args: [command] });
  }

  async react(reaction: Reaction): Promise<void> {
    this.calls.push({ name: 'react', args: [reaction] });
    if (this.state.meeting === null) throw new RoomdError('meeting.not_in_meeting');
  }

  /**
   * Like the room (src/meeting/room.ts sendChat): refused while chat is off or outside a meeting,
   * text checked as the chat channel checks it, `to` one of the others; shown at once as the room's.
   */
  async chat(text: string, to?: string): Promise<void> {
    this.calls.push({ name: 'chat', args: to === undefined ? [text] : [text, to] });
    if (!this.chatEnabled) throw new RoomdError('meeting.chat_off');
    const m = this.state.meeting;
    if (m === null) throw new RoomdError('meeting.not_in_meeting');
    if (!validChatText(text)) throw new RoomdError('meeting.chat_invalid');
    const self = m.participants.find((p) => p.self);
    if (self === undefined) throw new RoomdError('meeting.chat_not_ready');
    const recipient =
      to === undefined || to === 'all' ? null : m.participants.find((p) => p.id === to && !p.self);
    if (recipient === undefined) throw new RoomdError('meeting.chat_unknown_recipient');
    if (recipient !== null && m.encryption !== 'e2ee') throw new RoomdError('meeting.chat_no_private');
    this.receiveChat({
      id: `c${++this.#chatIds}`,
      from: self.name,
      fromId: self.id,
      to: recipient === null ? 'everyone' : recipient.name,
      text,
      at: Date.now(),
      mine: true,
      delivered: false,
      private: recipient !== null,
    });
  }

  /**
   * Like the room (src/meeting/room.ts share): refused without a content source, outside a
   * meeting, and while someone else shares (`othersShare`); the room is never the host here.
   */
  async share(on: boolean): Promise<void> {
    this.calls.push({ name: 'share', args: [on] });
    if (on && !this.canShare) throw new RoomdError('meeting.share_unavailable');
    const m = this.state.meeting;
    if (m === null) throw new RoomdError('meeting.not_in_meeting');
    const now = m.share ?? { active: false, self: false, by: null, canShare: this.canShare, host: false };
    if (on && now.active && !now.self) throw new RoomdError('meeting.share_busy');
    if (!on && !now.self) return;
    this.updateMeeting({
      share: {
        active: on,
        self: on,
        by: on ? this.state.room.name : null,
        canShare: this.canShare,
        host: false,
      },
    });
  }

  /** Someone else in the meeting shares (`name`), or stops (null). */
  othersShare(name: string | null): void {
    this.updateMeeting({
      share: { active: name !== null, self: false, by: name, canShare: this.canShare, host: false },
    });
  }

  /** A chat message appears in the meeting's state (the newest last, at most 50). */
  receiveChat(message: ChatMessage): void {
    const m = this.state.meeting;
    if (m === null) throw new Error('no meeting');
    this.updateMeeting({ chat: [...(m.chat ?? []), message].slice(-50), chatEnabled: this.chatEnabled });
  }

  async acknowledgeSecurityCode(): Promise<void> {
    this.calls.push({ name: 'ack', args: [] });
    if (this.state.meeting !== null) this.updateMeeting({ securityCodeChanged: false });
  }
}

export class FakeAdminBackend implements AdminBackend {
  settings: Record<string, unknown> = { room: { name: 'Fjord' }, meeting: { defaultEncryption: 'e2ee' } };
  readonly calls: { name: string; args: unknown[] }[] = [];
  /** While set, applying a bundle waits for it (to hold two bundles in flight at once). */
  provisioningGate: Promise<void> | null = null;
  constructor(private readonly room?: FakeRoom) {}

  async getSettings(): Promise<unknown> {
    return this.settings;
  }
  async setSettings(patch: unknown): Promise<unknown> {
    this.calls.push({ name: 'setSettings', args: [patch] });
    const p = patch as Record<string, unknown>;
    const room = p['room'] as { name?: unknown } | undefined;
    if (room !== undefined && typeof room.name !== 'string') {
      // Shaped like src/config/validate.ts: each field error names its `field`.
      throw new RoomdError('config.invalid', {
        context: { fields: [{ field: 'room.name', message: 'must be a string' }] },
      });
    }
    this.settings = { ...this.settings, ...p };
    if (typeof room?.name === 'string') this.room?.update({ room: { name: room.name } });
    return this.settings;
  }
  settingsSchema(): unknown {
    return { type: 'object', properties: { room: { type: 'object' } } };
  }
  async onClaimed(claim: { roomName?: string }): Promise<void> {
    this.calls.push({ name: 'onClaimed', args: [claim] });
    if (claim.roomName !== undefined) this.room?.update({ room: { name: claim.roomName } });
  }
  async applyProvisioning(bundle: { serial: number; settings: unknown; roomName?: string }): Promise<void> {
    this.calls.push({ name: 'applyProvisioning', args: [bundle] });
    if (this.provisioningGate !== null) await this.provisioningGate;
    if (bundle.roomName !== undefined) this.room?.update({ room: { name: bundle.roomName } });
  }
  async status(): Promise<Record<string, unknown>> {
    return { version: '0.1.0', uptimeSeconds: 42, meeting: this.room?.state.meeting?.id ?? null };
  }
  async health(): Promise<HealthReport> {
    return { status: 'ok', checks: [{ name: 'camera', ok: true }] };
  }
  async devices() {
    return this.room?.state.devices ?? [];
  }
  async logs(options: { lines: number }): Promise<string> {
    return `line 1\nline 2\n(${options.lines} requested)\n`;
  }
  async restart(): Promise<void> {
    this.calls.push({ name: 'restart', args: [] });
  }
  async scheduleMeeting(meeting: MeetingToSchedule): Promise<{ meetingId: string }> {
    this.calls.push({ name: 'scheduleMeeting', args: [meeting] });
    return { meetingId: '87770001234' };
  }
}

const NO_IDENTITY = { verified: false, keyed: false, identity: { status: 'none' } } as const;

export function verifiedAs(certifiedName: string, kind: string, fingerprint: string) {
  return { status: 'verified' as const, org: 'Demo Org', certifiedName, kind, fingerprint };
}
