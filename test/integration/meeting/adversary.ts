/**
 * Helpers for the adversarial-relay tests (docs/threat-model.md: the relay is the adversary): a
 * shield watch that samples every victim's shield on each `state` event and by polling, with attack
 * windows opened at well-defined moments; decoding of relayed E2EE envelopes for the hooks; and a
 * bare relay client standing in for a phone / SIP / web / old client (it speaks no E2EE).
 */
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Shield } from '../../../src/protocol/vocabulary.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { MeetingStatus } from '../../../src/meeting/status.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import type { ClientType } from '../../../src/protocol/vocabulary.ts';
import type { OutgoingBody } from '../../../src/relay/index.ts';
import { RelayClient } from '../../../src/transport/relay-client.ts';
import type { Harness } from '../../helpers/meeting-harness.ts';

export interface Sample {
  seq: number;
  shield: Shield;
  status: MeetingStatus;
  via: 'state' | 'poll';
}

/**
 * Records every shield reading of the watched participants, in one global order (`seq`). A window
 * is [open, close) in that order; `e2eeIn` lists the samples that read 'e2ee' inside it.
 */
export class ShieldWatch {
  #seq = 0;
  readonly samples = new Map<string, Sample[]>();
  readonly #opened = new Map<string, number>();
  readonly #closed = new Map<string, number>();
  readonly #offs: (() => void)[] = [];
  readonly #poll: NodeJS.Timeout;

  readonly people: HeadlessParticipant[] = [];

  constructor(people: readonly HeadlessParticipant[]) {
    for (const p of people) this.add(p);
    this.#poll = setInterval(() => {
      for (const p of this.people) {
        const s = p.session.snapshot;
        this.#record(p.name, s.shield, s.status, 'poll');
      }
    }, 20);
  }

  /** Watch one more participant. */
  add(p: HeadlessParticipant): void {
    this.people.push(p);
    this.samples.set(p.name, []);
    this.#offs.push(p.session.events.on('state', (s) => this.#record(p.name, s.shield, s.status, 'state')));
  }

  #record(name: string, shield: Shield, status: MeetingStatus, via: Sample['via']): void {
    this.samples.get(name)?.push({ seq: ++this.#seq, shield, status, via });
  }

  /** Open the window of `name` now (synchronously: everything sampled from here on counts). */
  open(name: string): void {
    if (!this.#opened.has(name)) this.#opened.set(name, ++this.#seq);
  }

  /**
   * Open the window of `name` once the current synchronous work is done: called from a client's
   * signaling tap, this counts every reading taken after the client processed that message.
   */
  openAfterThisMessage(name: string): void {
    queueMicrotask(() => this.open(name));
  }

  isOpen(name: string): boolean {
    return this.#opened.has(name) && !this.#closed.has(name);
  }

  close(name: string): void {
    if (this.#opened.has(name) && !this.#closed.has(name)) this.#closed.set(name, ++this.#seq);
  }

  closeAll(): void {
    for (const p of this.people) this.close(p.name);
  }

  /** Samples of `name` inside its window. */
  window(name: string): Sample[] {
    const from = this.#opened.get(name);
    if (from === undefined) return [];
    const to = this.#closed.get(name) ?? Number.POSITIVE_INFINITY;
    return (this.samples.get(name) ?? []).filter((s) => s.seq > from && s.seq < to);
  }

  e2eeIn(name: string): Sample[] {
    return this.window(name).filter((s) => s.shield === 'e2ee');
  }

  stop(): void {
    clearInterval(this.#poll);
    for (const off of this.#offs) off();
  }
}

/** A relayed E2EE envelope's payload, parsed (null for anything else). */
export function e2eePayload(body: OutgoingBody): { t?: string; [k: string]: unknown } | null {
  if (body.type !== 'e2ee') return null;
  try {
    return JSON.parse(body.payload) as { t?: string };
  } catch {
    return null;
  }
}

/** The same envelope with another payload. */
export function withPayload(body: OutgoingBody & { type: 'e2ee' }, payload: unknown): OutgoingBody {
  return { ...body, payload: JSON.stringify(payload) };
}

/** A server message as a client's signaling tap sees it. */
export function parseTapped(text: string): { type?: string; payload?: string; [k: string]: unknown } {
  try {
    return JSON.parse(text) as { type?: string };
  } catch {
    return {};
  }
}

/** The E2EE message inside a tapped server message, if any. */
export function tappedE2ee(
  text: string,
): { t?: string; body?: { epoch?: number }; [k: string]: unknown } | null {
  const m = parseTapped(text);
  if (m.type !== 'e2ee' || typeof m.payload !== 'string') return null;
  try {
    return JSON.parse(m.payload) as { t?: string };
  } catch {
    return null;
  }
}

/**
 * A client that joins through the relay and speaks no E2EE (a phone gateway, a SIP room, a browser,
 * an app too old for the protocol): it only holds its signaling and media connection.
 */
export async function bareClient(
  h: Harness,
  meetingId: string,
  name: string,
  client: ClientType,
  protocol: number,
): Promise<RelayClient> {
  const identity = ephemeralIdentity();
  const rc = new RelayClient({
    url: h.relay.address.signalUrl,
    peers: h.peers,
    clock: h.clock,
    logger: silentLogger(),
    reconnect: false,
    join: () => ({
      meetingId,
      displayName: name,
      client,
      protocol,
      deviceId: identity.deviceId,
      identityKey: toBase64Url(identity.publicKey),
    }),
  });
  const admitted = new Promise<void>((resolve, reject) => {
    rc.events.on('admission', (m) => {
      if (m.status === 'admitted') resolve();
      else reject(new Error(`bare ${client} client not admitted: ${m.status}`));
    });
  });
  rc.start();
  await admitted;
  return rc;
}
