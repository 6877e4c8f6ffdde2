/**
 * The relay's meeting registry (docs/protocol.md §Management API): scheduled
 * meetings and account settings, persisted as one JSON document through the atomic JsonFileStore so
 * a restart keeps every schedule. An E2EE meeting can only be created while its account allows
 * end-to-end encryption; an account's default encryption applies to meetings created without one.
 *
 * It also keeps the rooms' credentials (docs/protocol.md §Management API, decision 0010): a room
 * token, stored only as a SHA-256 hash, lets one room read the meetings booked for it and register
 * its identity key, and nothing else.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import * as path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore } from '../core/store.ts';
import { Bytes32, DeviceId, EncryptionSchema, MeetingId, MeetingPolicySchema } from '../protocol/schemas.ts';

const closed = { additionalProperties: false } as const;
const Iso = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2})$',
  maxLength: 40,
});
const AccountId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });

export const MeetingRecordSchema = Type.Object(
  {
    id: MeetingId,
    title: Type.String({ maxLength: 200 }),
    account: AccountId,
    /** Ed25519 public key of the host's device (base64url); the host proves it on join. */
    hostIdentityKey: Bytes32,
    passcode: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
    start: Type.Union([Iso, Type.Null()]),
    end: Type.Union([Iso, Type.Null()]),
    /** The room it is booked for (a room name), if any. */
    room: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    encryption: EncryptionSchema,
    /** Enhanced meetings only; E2EE meetings never allow join before host. */
    joinBeforeHost: Type.Boolean(),
    createdAt: Iso,
    /** The host-signed meeting policy it was booked with (docs/protocol.md "Meeting policy"); opaque here. */
    policy: Type.Optional(MeetingPolicySchema),
  },
  closed,
);
export type MeetingRecord = Static<typeof MeetingRecordSchema>;

/** One meeting of a room's schedule as the room reads it (with its passcode; docs/protocol.md §Management API). */
export type RoomScheduleEntry = Pick<
  MeetingRecord,
  'id' | 'title' | 'room' | 'start' | 'end' | 'encryption' | 'passcode' | 'policy'
>;

export function roomScheduleEntry(m: MeetingRecord): RoomScheduleEntry {
  return {
    id: m.id,
    title: m.title,
    room: m.room,
    start: m.start,
    end: m.end,
    encryption: m.encryption,
    passcode: m.passcode,
    ...(m.policy === undefined ? {} : { policy: m.policy }),
  };
}

export const AccountSchema = Type.Object(
  { id: AccountId, allowE2ee: Type.Boolean(), defaultEncryption: EncryptionSchema },
  closed,
);
export type Account = Static<typeof AccountSchema>;

/** At most this many tokens per room; a new one beyond it replaces the oldest. */
export const MAX_ROOM_TOKENS = 8;
const RoomName = Type.String({ minLength: 1, maxLength: 128 });

const RoomTokenRecordSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    /** SHA-256 of the secret part, hex. */
    hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    createdAt: Iso,
  },
  closed,
);

export const RoomRecordSchema = Type.Object(
  {
    /** The room's device id: what roomd books with. */
    id: DeviceId,
    /** Other names bookings may use for this room (its display name, as people type it). */
    names: Type.Array(RoomName, { maxItems: 8 }),
    /** The room's Ed25519 identity key, registered by the room itself with its token. */
    identityKey: Type.Union([Bytes32, Type.Null()]),
    tokens: Type.Array(RoomTokenRecordSchema, { maxItems: MAX_ROOM_TOKENS }),
  },
  closed,
);
export type RoomRecord = Static<typeof RoomRecordSchema>;
/** A room as the management API shows it: no token hashes. */
export interface RoomInfo {
  id: string;
  names: string[];
  identityKey: string | null;
  tokens: { id: string; createdAt: string }[];
}

const StateSchema = Type.Object(
  {
    version: Type.Literal(1),
    accounts: Type.Array(AccountSchema),
    meetings: Type.Array(MeetingRecordSchema),
    rooms: Type.Optional(Type.Array(RoomRecordSchema, { maxItems: 10_000 })),
  },
  closed,
);
type State = Static<typeof StateSchema>;
const stateCheck = TypeCompiler.Compile(StateSchema);

export const NewMeetingSchema = Type.Object(
  {
    id: Type.Optional(MeetingId),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    account: Type.Optional(AccountId),
    hostIdentityKey: Bytes32,
    passcode: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    start: Type.Optional(Type.Union([Iso, Type.Null()])),
    end: Type.Optional(Type.Union([Iso, Type.Null()])),
    room: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    encryption: Type.Optional(EncryptionSchema),
    joinBeforeHost: Type.Optional(Type.Boolean()),
    policy: Type.Optional(MeetingPolicySchema),
  },
  closed,
);
export type NewMeeting = Static<typeof NewMeetingSchema>;
const newMeetingCheck = TypeCompiler.Compile(NewMeetingSchema);

export const AccountPatchSchema = Type.Object(
  { allowE2ee: Type.Optional(Type.Boolean()), defaultEncryption: Type.Optional(EncryptionSchema) },
  closed,
);
export type AccountPatch = Static<typeof AccountPatchSchema>;

export const DEFAULT_ACCOUNT = 'default';

function parseState(raw: unknown): State {
  if (!stateCheck.Check(raw)) {
    const first = stateCheck.Errors(raw).First();
    throw new Error(`meetings file is invalid at ${first?.path ?? '/'}: ${first?.message ?? 'unknown'}`);
  }
  return raw;
}

export const NewRoomTokenSchema = Type.Object(
  { names: Type.Optional(Type.Array(RoomName, { maxItems: 8 })) },
  closed,
);
const newRoomTokenCheck = TypeCompiler.Compile(NewRoomTokenSchema);
const deviceIdCheck = TypeCompiler.Compile(DeviceId);
const bytes32Check = TypeCompiler.Compile(Bytes32);

const bareId = (id: string): string => id.replace(/-/g, '');
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const ROOM_TOKEN = /^rt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A meeting id people can type: three groups of digits, like 123-4567-8901. */
export function newMeetingId(): string {
  const d = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
  return `${randomInt(1, 10)}${d(2)}-${d(4)}-${d(4)}`;
}

export interface MeetingRegistryOptions {
  /** Directory for meetings.json; without one, state lives in memory only. */
  stateDir?: string;
  logger: Logger;
  now: () => number;
  defaultAccount?: Omit<Account, 'id'>;
}

export class MeetingRegistry {
  readonly #store: JsonFileStore<State> | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  #state: State;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: MeetingRegistryOptions) {
    this.#log = options.logger;
    this.#now = options.now;
    this.#store =
      options.stateDir === undefined
        ? undefined
        : new JsonFileStore(path.join(options.stateDir, 'meetings.json'), parseState);
    const def = options.defaultAccount ?? { allowE2ee: true, defaultEncryption: 'e2ee' as const };
    this.#state = { version: 1, accounts: [{ id: DEFAULT_ACCOUNT, ...def }], meetings: [], rooms: [] };
  }

  async load(): Promise<void> {
    if (this.#store === undefined) return;
    const result = await this.#store.read();
    if (result.problem !== undefined) this.#log.error({ code: result.problem.code }, result.problem.message);
    if (result.value !== undefined) {
      const accounts = result.value.accounts;
      if (!accounts.some((a) => a.id === DEFAULT_ACCOUNT)) accounts.unshift(this.#state.accounts[0]!);
      this.#state = { ...result.value, accounts, rooms: result.value.rooms ?? [] };
    }
  }

  list(): MeetingRecord[] {
    return this.#state.meetings.map((m) => ({ ...m }));
  }

  /** By id; people type ids with or without the dashes, so `123-4567-8901` = `12345678901`. */
  get(id: string): MeetingRecord | undefined {
    const bare = id.replace(/-/g, '');
    const m =
      this.#state.meetings.find((x) => x.id === id) ??
      this.#state.meetings.find((x) => x.id.replace(/-/g, '') === bare);
    return m === undefined ? undefined : { ...m };
  }

  account(id: string): Account {
    const a = this.#state.accounts.find((x) => x.id === id);
    return a === undefined ? { id, allowE2ee: false, defaultEncryption: 'enhanced' } : { ...a };
  }

  accounts(): Account[] {
    return this.#state.accounts.map((a) => ({ ...a }));
  }

  async create(input: unknown): Promise<MeetingRecord> {
    if (!newMeetingCheck.Check(input)) {
      const first = newMeetingCheck.Errors(input).First();
      throw new RoomdError('core.invalid_argument', {
        message: `The meeting is not valid${first === undefined ? '' : ` at ${first.path || '/'}: ${first.message}`}.`,
      });
    }
    const account = this.account(input.account ?? DEFAULT_ACCOUNT);
    const policy = input.policy;
    const encryption = input.encryption ?? policy?.encryption ?? account.defaultEncryption;
    // Never verified here (participants do), but a booking must not contradict its own policy.
    if (policy !== undefined) {
      if (policy.encryption !== encryption) {
        throw new RoomdError('core.invalid_argument', {
          message: `The meeting's signed policy says ${policy.encryption}, but it is booked as ${encryption}.`,
        });
      }
      if (input.id !== undefined && bareId(input.id) !== bareId(policy.meetingId)) {
        throw new RoomdError('core.invalid_argument', {
          message: `The meeting's signed policy is for meeting ${policy.meetingId}, not ${input.id}.`,
        });
      }
    }
    if (encryption === 'e2ee' && !account.allowE2ee) {
      throw new RoomdError('relay.e2ee_not_allowed', { context: { account: account.id } });
    }
    const start = input.start ?? null;
    const end = input.end ?? null;
    if (start !== null && end !== null && Date.parse(end) <= Date.parse(start)) {
      throw new RoomdError('core.invalid_argument', { message: 'A meeting must end after it starts.' });
    }
    // A signed policy names its meeting: the booking takes that id.
    const given = input.id ?? policy?.meetingId;
    let id = given ?? newMeetingId();
    if (given === undefined) while (this.get(id) !== undefined) id = newMeetingId();
    if (this.get(id) !== undefined) throw new RoomdError('relay.meeting_exists', { context: { id } });
    const record: MeetingRecord = {
      id,
      title: input.title ?? 'Meeting',
      account: account.id,
      hostIdentityKey: input.hostIdentityKey,
      passcode: input.passcode ?? null,
      start,
      end,
      room: input.room ?? null,
      encryption,
      joinBeforeHost: encryption === 'e2ee' ? false : (input.joinBeforeHost ?? false),
      createdAt: new Date(this.#now()).toISOString(),
      ...(policy === undefined ? {} : { policy }),
    };
    this.#state = { ...this.#state, meetings: [...this.#state.meetings, record] };
    await this.#persist();
    return { ...record };
  }

  async delete(id: string): Promise<void> {
    if (this.get(id) === undefined) throw new RoomdError('relay.meeting_not_found', { context: { id } });
    this.#state = { ...this.#state, meetings: this.#state.meetings.filter((m) => m.id !== id) };
    await this.#persist();
  }

  async updateAccount(id: string, patch: AccountPatch): Promise<Account> {
    const current = this.account(id);
    const next: Account = { ...current, ...patch };
    if (next.defaultEncryption === 'e2ee' && !next.allowE2ee) {
      throw new RoomdError('relay.e2ee_not_allowed', {
        message: 'End-to-end encryption cannot be the default while the account does not allow it.',
      });
    }
    this.#state = { ...this.#state, accounts: [...this.#state.accounts.filter((a) => a.id !== id), next] };
    await this.#persist();
    return { ...next };
  }

  // ---- rooms ------------------------------------------------------------------------------------

  #rooms(): RoomRecord[] {
    return this.#state.rooms ?? [];
  }

  #room(id: string): RoomRecord | undefined {
    return this.#rooms().find((r) => r.id === id);
  }

  async #putRoom(room: RoomRecord): Promise<void> {
    this.#state = { ...this.#state, rooms: [...this.#rooms().filter((r) => r.id !== room.id), room] };
    await this.#persist();
  }

  rooms(): RoomInfo[] {
    return this.#rooms().map((r) => ({
      id: r.id,
      names: [...r.names],
      identityKey: r.identityKey,
      tokens: r.tokens.map((t) => ({ id: t.id, createdAt: t.createdAt })),
    }));
  }

  /**
   * A new credential for one room (its device id), returned once: `rt_<id>_<secret>`. `names` are
   * other names its bookings may use (replacing earlier ones when given).
   */
  async createRoomToken(
    roomId: string,
    input: unknown = {},
  ): Promise<{ room: string; id: string; token: string }> {
    if (!deviceIdCheck.Check(roomId)) {
      throw new RoomdError('core.invalid_argument', { message: 'A room is named by its device id.' });
    }
    if (!newRoomTokenCheck.Check(input)) {
      throw new RoomdError('core.invalid_argument', {
        message: 'The body may only hold "names" (a list of room names).',
      });
    }
    const current = this.#room(roomId) ?? { id: roomId, names: [], identityKey: null, tokens: [] };
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const tokens = [
      ...current.tokens,
      { id, hash: sha256(secret).toString('hex'), createdAt: new Date(this.#now()).toISOString() },
    ].slice(-MAX_ROOM_TOKENS);
    await this.#putRoom({ ...current, names: input.names ?? current.names, tokens });
    return { room: roomId, id, token: `rt_${id}_${secret}` };
  }

  /** Revokes every token of a room (its identity key and names stay). */
  async revokeRoomTokens(roomId: string): Promise<void> {
    const current = this.#room(roomId);
    if (current === undefined) throw new RoomdError('core.not_found', { message: 'No such room.' });
    await this.#putRoom({ ...current, tokens: [] });
  }

  /** The room a room token belongs to, or undefined (constant-time in the secret). */
  roomForToken(token: string): string | undefined {
    const m = ROOM_TOKEN.exec(token);
    if (m === null) return undefined;
    const hash = sha256(m[2]!);
    for (const r of this.#rooms()) {
      for (const t of r.tokens) {
        if (t.id === m[1] && timingSafeEqual(Buffer.from(t.hash, 'hex'), hash)) return r.id;
      }
    }
    return undefined;
  }

  /** The room registers its own identity key (with its token), so its joins can be recognised. */
  async setRoomIdentity(roomId: string, identityKey: unknown): Promise<RoomInfo> {
    const current = this.#room(roomId);
    if (current === undefined) throw new RoomdError('core.not_found', { message: 'No such room.' });
    if (!bytes32Check.Check(identityKey)) {
      throw new RoomdError('core.invalid_argument', {
        message: 'identityKey must be an Ed25519 public key (32 bytes, base64url).',
      });
    }
    if (current.identityKey !== identityKey) await this.#putRoom({ ...current, identityKey });
    return this.rooms().find((r) => r.id === roomId)!;
  }

  /** The meetings booked for a room: by its device id or one of its names. */
  roomSchedule(roomId: string): MeetingRecord[] {
    const r = this.#room(roomId);
    const names = new Set([roomId, ...(r?.names ?? [])]);
    return this.#state.meetings.filter((m) => m.room !== null && names.has(m.room)).map((m) => ({ ...m }));
  }

  /** The identity key a room registered, if any. */
  roomIdentity(roomId: string): string | undefined {
    return this.#room(roomId)?.identityKey ?? undefined;
  }

  /** The registered identity key of the room a meeting is booked for, if any. */
  bookedRoomKey(meeting: MeetingRecord): string | undefined {
    if (meeting.room === null) return undefined;
    const room =
      this.#room(meeting.room) ?? this.#rooms().find((r) => r.names.includes(meeting.room as string));
    return room?.identityKey ?? undefined;
  }

  /** Writes are serialised so the file always holds the latest state. */
  #persist(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    const snapshot = this.#state;
    this.#writing = this.#writing.catch(() => {}).then(() => store.write(snapshot));
    return this.#writing;
  }
}
