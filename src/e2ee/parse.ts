/**
 * Strict validators for E2EE messages (docs/protocol.md "Messages", "Encodings"): untrusted values in,
 * typed messages out, RoomdError e2ee.malformed / e2ee.unsupported_version otherwise; plus the
 * sanitisers the leader applies to relay-given names before signing them into the roster.
 */
import { RoomdError } from '../core/errors.ts';
import { fromB64u } from './bytes.ts';
import { parseCertificate } from './certificate.ts';
import {
  type AckMessage,
  type BindingBody,
  type BindingMessage,
  type DirectHelloMessage,
  type DirectReplyMessage,
  E2EE_PROTOCOL_VERSION,
  type E2eeMessage,
  type HeartbeatMessage,
  type KeyMessage,
  LIMITS,
  type RelayMember,
  type RosterEntry,
  SIZES,
} from './messages.ts';

// ---- validators -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function bad(what: string, why: string): never {
  throw new RoomdError('e2ee.malformed', {
    message: `E2EE message field ${what} ${why}.`,
    context: { what },
  });
}

function obj(v: unknown, what: string, required: readonly string[], optional: readonly string[] = []): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'is not an object');
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) bad(`${what}.${k}`, 'is not allowed');
  }
  for (const k of required) if (!(k in o)) bad(`${what}.${k}`, 'is missing');
  return o;
}

const ID = /^[\x21-\x7e]+$/;
const TOKEN = /^[a-z0-9._-]{1,32}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether a relay-given id can appear in a roster. */
export function isValidId(v: string): boolean {
  return v.length > 0 && v.length <= LIMITS.maxIdLength && ID.test(v);
}

/** A relay-given display name made fit for a signed roster (control characters out, length capped). */
export function cleanDisplayName(v: string): string {
  return v.replace(new RegExp(CONTROL.source, 'g'), ' ').slice(0, LIMITS.maxNameLength);
}

/** A relay-given client kind made fit for a signed roster. */
export function cleanToken(v: string): string {
  const t = v
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')
    .slice(0, 32);
  return t === '' ? 'unknown' : t;
}

function id(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.maxIdLength || !ID.test(v))
    bad(what, 'is not an id');
  return v;
}

function name(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > LIMITS.maxNameLength || CONTROL.test(v))
    bad(what, 'is not a display name');
  return v;
}

function token(v: unknown, what: string): string {
  if (typeof v !== 'string' || !TOKEN.test(v)) bad(what, 'is not a token');
  return v;
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    bad(what, `is not an integer in ${min}..${max}`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') bad(what, 'is not a boolean');
  return v;
}

/** base64url of exactly `len` bytes, or of 0..len bytes when `allowEmpty`. */
function b64(v: unknown, what: string, len: number, allowEmpty = false): string {
  if (typeof v !== 'string') bad(what, 'is not base64url');
  if (allowEmpty && v === '') return v;
  const bytes = fromB64u(v, what);
  if (bytes.length !== len) bad(what, `must hold ${len} bytes`);
  return v;
}

function version(o: Obj, what: string): void {
  if (o['v'] !== E2EE_PROTOCOL_VERSION) {
    throw new RoomdError('e2ee.unsupported_version', {
      context: { what, version: typeof o['v'] === 'number' ? o['v'] : typeof o['v'] },
    });
  }
}

const U32 = 0xffff_ffff;
const SLOT_MAX = 2 ** 40;

function parseBindingBody(v: unknown, what: string): BindingBody {
  const o = obj(
    v,
    what,
    [
      'v',
      'meetingId',
      'instanceId',
      'participantId',
      'deviceId',
      'displayName',
      'client',
      'caps',
      'ivk',
      'x25519',
      'mlkem',
      'nonce',
    ],
    ['cert'],
  );
  version(o, what);
  const caps = o['caps'];
  if (!Array.isArray(caps) || caps.length > LIMITS.maxCaps) bad(`${what}.caps`, 'is not a capability list');
  return {
    v: 1,
    meetingId: id(o['meetingId'], `${what}.meetingId`),
    instanceId: id(o['instanceId'], `${what}.instanceId`),
    participantId: id(o['participantId'], `${what}.participantId`),
    deviceId: id(o['deviceId'], `${what}.deviceId`),
    displayName: name(o['displayName'], `${what}.displayName`),
    client: token(o['client'], `${what}.client`),
    caps: caps.map((c, i) => token(c, `${what}.caps[${i}]`)),
    ivk: b64(o['ivk'], `${what}.ivk`, SIZES.ivk),
    x25519: b64(o['x25519'], `${what}.x25519`, SIZES.x25519),
    mlkem: b64(o['mlkem'], `${what}.mlkem`, SIZES.mlkemPublic),
    nonce: b64(o['nonce'], `${what}.nonce`, SIZES.nonce),
    ...(o['cert'] === undefined ? {} : { cert: parseCertificate(o['cert'], `${what}.cert`) }),
  };
}

export function parseBindingMessage(v: unknown, what = 'binding'): BindingMessage {
  const o = obj(v, what, ['t', 'v', 'binding', 'sig']);
  if (o['t'] !== 'e2ee.binding') bad(`${what}.t`, 'is not e2ee.binding');
  version(o, what);
  return {
    t: 'e2ee.binding',
    v: 1,
    binding: parseBindingBody(o['binding'], `${what}.binding`),
    sig: b64(o['sig'], `${what}.sig`, SIZES.signature),
  };
}

function parseKey(o: Obj): KeyMessage {
  const base = obj(
    o,
    'key',
    [
      't',
      'v',
      'meetingId',
      'instanceId',
      'leaderId',
      'recipientId',
      'epoch',
      'slot',
      'switch',
      'nonce',
      'iv',
      'box',
    ],
    ['kem'],
  );
  const sw = base['switch'];
  if (sw !== 'immediate' && sw !== 'await') bad('key.switch', 'is not immediate|await');
  const msg: KeyMessage = {
    t: 'e2ee.key',
    v: 1,
    meetingId: id(base['meetingId'], 'key.meetingId'),
    instanceId: id(base['instanceId'], 'key.instanceId'),
    leaderId: id(base['leaderId'], 'key.leaderId'),
    recipientId: id(base['recipientId'], 'key.recipientId'),
    epoch: int(base['epoch'], 'key.epoch', 1, U32),
    slot: int(base['slot'], 'key.slot', 0, SLOT_MAX),
    switch: sw,
    nonce: b64(base['nonce'], 'key.nonce', SIZES.nonce),
    iv: b64(base['iv'], 'key.iv', SIZES.xnonce),
    box: b64(base['box'], 'key.box', SIZES.box),
  };
  if (base['kem'] !== undefined) msg.kem = b64(base['kem'], 'key.kem', SIZES.mlkemCiphertext);
  return msg;
}

function parseAck(o: Obj): AckMessage {
  obj(o, 'ack', ['t', 'v', 'meetingId', 'instanceId', 'leaderId', 'participantId', 'epoch', 'nonce', 'mac']);
  return {
    t: 'e2ee.ack',
    v: 1,
    meetingId: id(o['meetingId'], 'ack.meetingId'),
    instanceId: id(o['instanceId'], 'ack.instanceId'),
    leaderId: id(o['leaderId'], 'ack.leaderId'),
    participantId: id(o['participantId'], 'ack.participantId'),
    epoch: int(o['epoch'], 'ack.epoch', 1, U32),
    nonce: b64(o['nonce'], 'ack.nonce', SIZES.nonce),
    mac: b64(o['mac'], 'ack.mac', SIZES.mac),
  };
}

function parseRosterEntry(v: unknown, what: string): RosterEntry {
  const o = obj(
    v,
    what,
    ['participantId', 'slot', 'bindingHash', 'displayName', 'client', 'e2ee', 'ivk'],
    ['cert'],
  );
  const entry: RosterEntry = {
    participantId: id(o['participantId'], `${what}.participantId`),
    slot: int(o['slot'], `${what}.slot`, 0, SLOT_MAX),
    bindingHash: b64(o['bindingHash'], `${what}.bindingHash`, SIZES.hash, true),
    displayName: name(o['displayName'], `${what}.displayName`),
    client: token(o['client'], `${what}.client`),
    e2ee: bool(o['e2ee'], `${what}.e2ee`),
    ivk: b64(o['ivk'], `${what}.ivk`, SIZES.ivk, true),
  };
  if (o['cert'] !== undefined) entry.cert = parseCertificate(o['cert'], `${what}.cert`);
  return entry;
}

function parseHeartbeat(o: Obj): HeartbeatMessage {
  obj(o, 'heartbeat', ['t', 'v', 'body', 'leader', 'sig']);
  const b = obj(o['body'], 'heartbeat.body', [
    'meetingId',
    'instanceId',
    'leaderId',
    'epoch',
    'sendEpoch',
    'rosterVersion',
    'counter',
    'time',
    'rosterHash',
    'prev',
    'roster',
  ]);
  const roster = b['roster'];
  if (!Array.isArray(roster) || roster.length > LIMITS.maxRoster)
    bad('heartbeat.body.roster', 'is not a roster');
  return {
    t: 'e2ee.heartbeat',
    v: 1,
    body: {
      meetingId: id(b['meetingId'], 'heartbeat.body.meetingId'),
      instanceId: id(b['instanceId'], 'heartbeat.body.instanceId'),
      leaderId: id(b['leaderId'], 'heartbeat.body.leaderId'),
      epoch: int(b['epoch'], 'heartbeat.body.epoch', 1, U32),
      sendEpoch: int(b['sendEpoch'], 'heartbeat.body.sendEpoch', 0, U32),
      rosterVersion: int(b['rosterVersion'], 'heartbeat.body.rosterVersion', 0, Number.MAX_SAFE_INTEGER),
      counter: int(b['counter'], 'heartbeat.body.counter', 0, Number.MAX_SAFE_INTEGER),
      time: int(b['time'], 'heartbeat.body.time', 0, Number.MAX_SAFE_INTEGER),
      rosterHash: b64(b['rosterHash'], 'heartbeat.body.rosterHash', SIZES.hash),
      prev: b64(b['prev'], 'heartbeat.body.prev', SIZES.hash, true),
      roster: roster.map((e, i) => parseRosterEntry(e, `heartbeat.body.roster[${i}]`)),
    },
    leader: parseBindingMessage(o['leader'], 'heartbeat.leader'),
    sig: b64(o['sig'], 'heartbeat.sig', SIZES.signature),
  };
}

function parseDirectHello(o: Obj): DirectHelloMessage {
  obj(o, 'direct-hello', ['t', 'v', 'binding', 'nonce']);
  return {
    t: 'e2ee.direct-hello',
    v: 1,
    binding: parseBindingMessage(o['binding'], 'direct-hello.binding'),
    nonce: b64(o['nonce'], 'direct-hello.nonce', SIZES.nonce),
  };
}

function parseDirectReply(o: Obj): DirectReplyMessage {
  obj(o, 'direct-reply', ['t', 'v', 'binding', 'nonce', 'kem']);
  return {
    t: 'e2ee.direct-reply',
    v: 1,
    binding: parseBindingMessage(o['binding'], 'direct-reply.binding'),
    nonce: b64(o['nonce'], 'direct-reply.nonce', SIZES.nonce),
    kem: b64(o['kem'], 'direct-reply.kem', SIZES.mlkemCiphertext),
  };
}

/** Validate an untrusted value as an E2EE message. Throws RoomdError e2ee.malformed / e2ee.unsupported_version. */
export function parseE2eeMessage(value: unknown): E2eeMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('message', 'is not an object');
  const o = value as Obj;
  const t = o['t'];
  if (typeof t !== 'string' || !t.startsWith('e2ee.')) bad('t', 'is not an E2EE message type');
  version(o, t);
  switch (t) {
    case 'e2ee.binding':
      return parseBindingMessage(o);
    case 'e2ee.key':
      return parseKey(o);
    case 'e2ee.ack':
      return parseAck(o);
    case 'e2ee.heartbeat':
      return parseHeartbeat(o);
    case 'e2ee.direct-hello':
      return parseDirectHello(o);
    case 'e2ee.direct-reply':
      return parseDirectReply(o);
    default:
      return bad('t', 'is not a known E2EE message type');
  }
}

/** Shape check of a relay roster member (the relay is untrusted input). */
export function isRelayMember(m: unknown): m is RelayMember {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return (
    typeof r['participantId'] === 'string' &&
    r['participantId'] !== '' &&
    typeof r['displayName'] === 'string' &&
    typeof r['client'] === 'string' &&
    typeof r['e2ee'] === 'boolean' &&
    (r['slot'] === undefined || (Number.isSafeInteger(r['slot']) && (r['slot'] as number) >= 0))
  );
}

/** Whether an unparseable payload claims to be a binding (old-protocol clients). */
export function isBindingShaped(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === 'e2ee.binding';
}
