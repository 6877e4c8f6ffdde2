/**
 * The room's state in the shapes the kiosk (RoomSnapshot) and the touch panel (RoomView) show.
 * Pure functions of the room, the devices and the problems the daemon knows about.
 */
import type { RoomdError } from '../../core/errors.ts';
import type { DeviceStatus } from '../../devices/status.ts';
import type { RoomView } from '../../devices/panel/view.ts';
import {
  CHAT_SHOWN,
  type ChatMessage,
  type DeviceInfo,
  type MeetingState,
  type RoomSnapshot,
  type ShareState,
} from '../../http/schemas/state.ts';
import type { ChatEntry } from '../../meeting/chat.ts';
import { FEATURE_NAMES } from '../../protocol/vocabulary.ts';
import type { Room, RoomMeetingState } from '../../meeting/room.ts';
import type { RoomShareView } from '../../meeting/room-share.ts';
import { codeChangeText } from '../../meeting/status.ts';

const KIND: Record<DeviceStatus['id'], string> = {
  panel: 'panel',
  camera: 'camera',
  speakerphone: 'speakerphone',
  content: 'content',
  usb: 'usb',
};

export function deviceInfo(d: DeviceStatus): DeviceInfo {
  const status =
    d.state === 'ready' || d.state === 'not-configured' || d.state === 'absent'
      ? 'ok'
      : d.health === 'error'
        ? 'missing'
        : 'degraded';
  return {
    id: d.id,
    kind: KIND[d.id],
    name: d.path ?? (d.state === 'not-configured' ? 'not configured' : d.id),
    status,
    state: d.state,
    since: new Date(d.since).toISOString(),
    ...(d.lastError !== null && status !== 'ok' ? { detail: d.lastError.message } : {}),
    ...(d.model === undefined ? {} : { model: { ...d.model } }),
  };
}

function meetingStatus(m: RoomMeetingState): MeetingState['status'] {
  switch (m.status) {
    case 'idle':
    case 'connecting':
    case 'keying':
      return 'joining';
    case 'waiting-for-host':
      return 'waiting_for_host';
    case 'secure':
    case 'rekeying':
    case 'reconnecting':
      return 'in_meeting';
    case 'left':
    case 'failed':
      return 'ended';
  }
}

function joinSteps(m: RoomMeetingState): NonNullable<MeetingState['joinSteps']> {
  const order = ['connecting', 'keying', 'secure'];
  const at = m.status === 'waiting-for-host' ? 1 : Math.max(0, order.indexOf(m.status));
  const failed = m.status === 'failed';
  const labels = [
    'Connecting to the meeting service',
    'Exchanging keys with the participants',
    'Encryption verified',
  ];
  return labels.map((label, i) => ({
    label,
    state:
      failed && i === at
        ? 'failed'
        : i < at || m.status === 'secure'
          ? 'done'
          : i === at
            ? 'active'
            : 'pending',
  }));
}

export function meetingState(m: RoomMeetingState, roomName = ''): MeetingState {
  return {
    id: m.id,
    title: m.title,
    status: meetingStatus(m),
    // Until the service confirmed it, only what this join insists on (never shown as a fact).
    encryption: m.encryption ?? m.expectedEncryption,
    encryptionConfirmed: m.encryption !== null,
    leaving: m.leaving,
    shield: m.shield,
    securityCode: m.securityCode,
    securityCodeChanged: m.securityCodeChanged,
    codeChange:
      m.codeChange === null ? null : { ...m.codeChange, message: codeChangeText(m.codeChange, roomName) },
    rosterCode: m.rosterCode,
    identityPolicy: m.identityPolicy,
    epoch: m.epoch,
    leader: m.leader,
    participants: m.participants.map((p) => ({
      id: p.id,
      name: p.name,
      clientType: p.clientType,
      verified: p.verified,
      keyed: p.keyed,
      identity: p.identity,
      self: p.self,
      ...(p.muted === undefined ? {} : { muted: p.muted }),
      ...(p.cameraOff === undefined ? {} : { videoOn: !p.cameraOff }),
    })),
    disabledFeatures: m.disabledFeatures.map((f) => ({
      feature: FEATURE_NAMES[f.feature] ?? f.feature,
      reason: f.reason,
    })),
    joinSteps: joinSteps(m),
    muted: m.muted,
    cameraOn: m.cameraOn,
    volume: m.volume,
    mediaPath: m.mediaPath,
  };
}

/**
 * One chat message as the room screen shows it (docs/kiosk-and-admin-api.md §Chat): who wrote it,
 * and whether it went to everyone, privately to this room, or privately from the room to someone.
 */
export function chatMessage(e: ChatEntry): ChatMessage {
  const isPrivate = e.to !== 'all';
  return {
    id: e.id,
    from: e.fromName,
    fromId: e.from,
    to: !isPrivate ? 'everyone' : e.mine ? (e.toName ?? e.to) : 'room',
    text: e.text,
    at: e.at,
    mine: e.mine,
    delivered: e.delivered,
    private: isPrivate,
  };
}

/** Content sharing as the room screen shows it (docs/kiosk-and-admin-api.md §Content sharing). */
export function shareState(v: RoomShareView): ShareState {
  return {
    active: v.active,
    self: v.self,
    by: v.by,
    canShare: v.canShare,
    host: v.host,
    ...(v.notice === null ? {} : { notice: v.notice }),
  };
}

export interface SnapshotInputs {
  room: Room;
  roomName: string;
  deviceId: string;
  addresses: string[];
  devices: readonly DeviceStatus[];
  problems: readonly RoomdError[];
}

function shareOf(room: Room): { share?: ShareState } {
  const v = room.shareView();
  return v === null ? {} : { share: shareState(v) };
}

export function roomSnapshot(i: SnapshotInputs): RoomSnapshot {
  const m = i.room.meeting();
  const errors: { code: string; message: string }[] = i.problems.map((p) => ({
    code: p.code,
    message: p.message,
  }));
  // The schedule matters on the idle screen; during a join or a meeting its trouble is not the news.
  const active = m !== null && m.status !== 'left' && m.status !== 'failed';
  if (i.room.scheduleError !== null && !active)
    errors.push({ code: 'meeting.relay_unreachable', message: i.room.scheduleError });
  if (m?.error) errors.push({ code: m.error.code, message: m.error.message });
  for (const a of m?.alarms ?? []) errors.push({ code: 'e2ee.alarm', message: a });
  return {
    room: { name: i.roomName },
    deviceId: i.deviceId,
    addresses: i.addresses,
    schedule: i.room.schedule.map((b) => ({
      meetingId: b.meetingId,
      title: b.title,
      start: b.start,
      end: b.end,
      encryption: b.encryption,
    })),
    meeting:
      m === null || (m.status === 'left' && m.error === null)
        ? null
        : {
            ...meetingState(m, i.roomName),
            reactions: i.room.reactions(),
            chat: i.room.chatMessages(CHAT_SHOWN).map(chatMessage),
            chatEnabled: i.room.chatEnabled,
            ...shareOf(i.room),
          },
    devices: i.devices.map(deviceInfo),
    errors,
    media: null,
  };
}

export function panelView(i: SnapshotInputs): RoomView {
  const base = {
    roomName: i.roomName,
    meetings: i.room.schedule.map((b) => ({
      id: b.meetingId,
      title: b.title,
      start: Date.parse(b.start),
      end: Date.parse(b.end),
    })),
    notice: i.room.meeting()?.error?.message ?? i.room.scheduleError,
    presets: [1, 2, 3].map((n) => ({ preset: n, label: `Preset ${n}` })),
  };
  const m = i.room.meeting();
  if (m === null || m.status === 'left' || m.status === 'failed') return { ...base, phase: 'idle' };
  if (
    m.status === 'connecting' ||
    m.status === 'waiting-for-host' ||
    m.status === 'keying' ||
    m.status === 'idle'
  ) {
    const step =
      m.status === 'waiting-for-host'
        ? 'Waiting for the host'
        : m.status === 'keying'
          ? 'Exchanging keys'
          : 'Connecting';
    return {
      ...base,
      phase: 'joining',
      joining: { title: m.title || m.id, progress: m.status === 'keying' ? 66 : 33, step },
    };
  }
  const share = i.room.shareView();
  return {
    ...base,
    // Why the room's share ended when it did not end it itself (the host took over).
    notice: base.notice ?? share?.notice ?? null,
    phase: 'in-meeting',
    meeting: {
      title: m.title || m.id,
      shield: m.shield,
      securityCode: m.securityCode,
      muted: m.muted,
      cameraOn: m.cameraOn,
      volume: m.volume,
      rosterCode: m.rosterCode,
      participants: m.participants.map((p) => ({
        name: p.name,
        identity: p.identity.status,
        clientType: p.clientType,
        self: p.self,
      })),
      share:
        share === null
          ? null
          : {
              active: share.active,
              self: share.self,
              by: share.by,
              canShare: share.canShare,
              host: share.host,
            },
    },
  };
}
