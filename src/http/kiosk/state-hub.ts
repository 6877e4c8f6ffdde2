/**
 * Composes the kiosk's RoomState (docs/kiosk-and-admin-api.md §Room screen): the app's snapshot
 * plus what the HTTP layer owns — claim state and setup code (until claimed), the admin certificate
 * fingerprint and admin URLs, and the admin login lockout notice. Listeners hear every change of
 * either side.
 */
import type { RoomStateSource, Unsubscribe } from '../ports.ts';
import type { RoomSnapshot, RoomState } from '../schemas/state.ts';

export interface AuthView {
  readonly claimed: boolean;
  readonly setupCode: string | null;
  lockout(): { locked: boolean; until: number | null };
  onChange(listener: () => void): () => void;
}

export class KioskStateHub {
  readonly #source: RoomStateSource;
  readonly #auth: AuthView;
  readonly #certFingerprint: string;
  readonly #roomctl: string;
  readonly #adminPort: () => number;
  /** The address the admin server listens on; a wildcard means every LAN address. */
  readonly #adminHost: string;
  readonly #listeners = new Set<(state: RoomState) => void>();
  #unsubs: Unsubscribe[] = [];

  /** `port` may be a function: the admin server's real port is known only once it listens. */
  constructor(
    source: RoomStateSource,
    auth: AuthView,
    admin: { certFingerprint: string; port: number | (() => number); host?: string; roomctl?: string },
  ) {
    this.#source = source;
    this.#auth = auth;
    this.#certFingerprint = admin.certFingerprint;
    this.#adminHost = admin.host ?? '0.0.0.0';
    this.#roomctl = admin.roomctl ?? 'roomctl';
    const port = admin.port;
    this.#adminPort = typeof port === 'number' ? () => port : port;
  }

  getState(): RoomState {
    return this.compose(this.#source.getState());
  }

  compose(snapshot: RoomSnapshot): RoomState {
    const lock = this.#auth.lockout();
    const setupCode = this.#auth.setupCode;
    const { deviceId, addresses, room, ...rest } = snapshot;
    // The setup screen names only addresses the admin server answers on: all LAN addresses when it
    // listens on every interface, else just the one it is bound to (127.0.0.1 in the demo).
    const wildcard = this.#adminHost === '0.0.0.0' || this.#adminHost === '::' || this.#adminHost === '';
    const adminHosts = wildcard ? addresses : [this.#adminHost];
    return {
      room: { name: room.name, provisioned: this.#auth.claimed },
      ...rest,
      setup:
        setupCode === null
          ? null
          : {
              setupCode,
              deviceId,
              addresses,
              adminUrls: adminHosts.map(
                (a) => `https://${a.includes(':') ? `[${a}]` : a}:${this.#adminPort()}/`,
              ),
              certFingerprint: this.#certFingerprint,
              roomctl: this.#roomctl,
            },
      admin: {
        loginLocked: lock.locked,
        lockedUntil: lock.until === null ? null : new Date(lock.until).toISOString(),
      },
      certFingerprint: this.#certFingerprint,
    };
  }

  subscribe(listener: (state: RoomState) => void): Unsubscribe {
    if (this.#listeners.size === 0) this.#attach();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#detach();
    };
  }

  close(): void {
    this.#listeners.clear();
    this.#detach();
  }

  #attach(): void {
    this.#unsubs = [
      this.#source.subscribe((snapshot) => this.#emit(this.compose(snapshot))),
      this.#auth.onChange(() => this.#emit(this.getState())),
    ];
  }

  #detach(): void {
    for (const u of this.#unsubs) u();
    this.#unsubs = [];
  }

  #emit(state: RoomState): void {
    for (const l of [...this.#listeners]) l(state);
  }
}
