/**
 * The relay's meeting registry (product brief, "What E2EE means"; issue 4 "Meetings"): scheduled
 * meetings and account settings, persisted as one JSON document through the atomic JsonFileStore so
 * a restart keeps every schedule. An E2EE meeting can only be created while its account allows
 * end-to-end encryption; an account's default encryption applies to meetings created without one.
 */
import { randomInt } from 'node:crypto';
import * as path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore } from '../core/store.ts';
import { Bytes32, EncryptionSchema, MeetingId } from '../protocol/schemas.ts';

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
  },
  closed,
);
export type MeetingRecord = Static<typeof MeetingRecordSchema>;

export const AccountSchema = Type.Object(
  { id: AccountId, allowE2ee: Type.Boolean(), defaultEncryption: EncryptionSchema },
  closed,
);
export type Account = Static<typeof AccountSchema>;

const StateSchema = Type.Object(
  {
    version: Type.Literal(1),
    accounts: Type.Array(AccountSchema),
    meetings: Type.Array(MeetingRecordSchema),
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
    this.#state = { version: 1, accounts: [{ id: DEFAULT_ACCOUNT, ...def }], meetings: [] };
  }

  async load(): Promise<void> {
    if (this.#store === undefined) return;
    const result = await this.#store.read();
    if (result.problem !== undefined) this.#log.error({ code: result.problem.code }, result.problem.message);
    if (result.value !== undefined) {
      const accounts = result.value.accounts;
      if (!accounts.some((a) => a.id === DEFAULT_ACCOUNT)) accounts.unshift(this.#state.accounts[0]!);
      this.#state = { ...result.value, accounts };
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
    const encryption = input.encryption ?? account.defaultEncryption;
    if (encryption === 'e2ee' && !account.allowE2ee) {
      throw new RoomdError('relay.e2ee_not_allowed', { context: { account: account.id } });
    }
    const start = input.start ?? null;
    const end = input.end ?? null;
    if (start !== null && end !== null && Date.parse(end) <= Date.parse(start)) {
      throw new RoomdError('core.invalid_argument', { message: 'A meeting must end after it starts.' });
    }
    let id = input.id ?? newMeetingId();
    if (input.id === undefined) while (this.get(id) !== undefined) id = newMeetingId();
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

  /** Writes are serialised so the file always holds the latest state. */
  #persist(): Promise<void> {
    const store = this.#store;
    if (store === undefined) return Promise.resolve();
    const snapshot = this.#state;
    this.#writing = this.#writing.catch(() => {}).then(() => store.write(snapshot));
    return this.#writing;
  }
}
