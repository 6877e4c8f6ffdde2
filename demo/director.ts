/**
 * The demo's director (docs/kiosk-and-admin-api.md §roomctl demo; the routes are
 * src/http/admin/demo-director.ts): the host leaves and comes back, people join and leave, a phone
 * or an old app is refused, the relay restarts, a device is unplugged, a laptop is plugged into the
 * room's HDMI capture (demo/devices.ts), someone shares slides or writes in the chat — on command, so a person can
 * watch what the room screen says each time.
 */
import { RoomdError } from '../src/core/errors.ts';
import type { DemoDirector, DemoRefusedReply, DemoStatusReply } from '../src/http/admin/demo-director.ts';
import type { ClientType } from '../src/protocol/vocabulary.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { type DemoCast, type DemoMeetingInfo, type ExtraPersonKind, isPresent } from './cast.ts';
import type { DemoDevice, DemoDevices } from './devices.ts';

const REFUSED_CLIENTS: Record<
  'phone' | 'web' | 'old-app',
  { client: ClientType; protocol?: number; name: string }
> = {
  phone: { client: 'phone', name: 'Dial-in +41 44 000 00 01' },
  web: { client: 'web', protocol: 0, name: 'Browser guest' },
  'old-app': { client: 'desktop', protocol: 0, name: 'Old desktop app' },
};

/** What the director acts on. */
export interface DirectorStage {
  /** The far end (once the demo has started). */
  cast(): DemoCast;
  readonly devices: DemoDevices;
  signalUrl(): string;
  /** Stop the relay and start it again on the same address. */
  restartRelay(): Promise<void>;
}

export class Director implements DemoDirector {
  readonly #stage: DirectorStage;

  constructor(stage: DirectorStage) {
    this.#stage = stage;
  }

  status(): DemoStatusReply {
    const cast = this.#stage.cast();
    return {
      relay: this.#stage.signalUrl(),
      meetings: cast.meetings.map((m) => ({
        id: m.id,
        title: m.title,
        encryption: m.encryption,
        people: m.bots.map((b) => {
          const role = cast.role(b);
          return {
            name: b.name,
            client: role?.client ?? 'desktop',
            host: role?.host ?? false,
            present: isPresent(b),
          };
        }),
      })),
    };
  }

  async hostLeaves(o: { meetingId?: string } = {}): Promise<string> {
    const cast = this.#stage.cast();
    const m = cast.meeting(o.meetingId);
    const host = m.bots.find((b) => cast.role(b)?.host === true && isPresent(b));
    if (host === undefined)
      throw new RoomdError('http.conflict', { message: `The host of "${m.title}" is not in the meeting.` });
    await host.leave();
    return `${host.name} (the host) left "${m.title}".`;
  }

  async hostRejoins(o: { meetingId?: string } = {}): Promise<string> {
    const m = this.#stage.cast().meeting(o.meetingId);
    const name = await this.#stage.cast().rejoinHost(m);
    return `${name} (the host) joined "${m.title}" again.`;
  }

  async personJoins(o: { meetingId?: string; kind: ExtraPersonKind; name?: string }): Promise<string> {
    const m = this.#stage.cast().meeting(o.meetingId);
    const bot = await this.#stage.cast().addFarEndPerson({
      kind: o.kind,
      meetingId: m.id,
      ...(o.name === undefined ? {} : { name: o.name }),
    });
    const what =
      o.kind === 'certified'
        ? 'certified by Demo Org'
        : o.kind === 'uncertified'
          ? 'with no certificate'
          : 'certified by Demo Org, on a new identity key';
    return `${bot.name} joined "${m.title}" (${what}).`;
  }

  async personLeaves(o: { meetingId?: string; name?: string } = {}): Promise<string> {
    const cast = this.#stage.cast();
    const m = cast.meeting(o.meetingId);
    const present = m.bots.filter(isPresent);
    const bot =
      o.name === undefined
        ? present.filter((b) => cast.role(b)?.extra === true).at(-1)
        : present.find((b) => b.name === o.name);
    if (bot === undefined)
      throw new RoomdError('core.not_found', {
        message:
          o.name === undefined
            ? `Nobody the director added is in "${m.title}".`
            : `Nobody called "${o.name}" is in "${m.title}".`,
      });
    if (cast.role(bot)?.host === true) return this.hostLeaves({ meetingId: m.id });
    await bot.leave();
    return `${bot.name} left "${m.title}".`;
  }

  /**
   * A client the E2EE rules keep out tries to join (with the right passcode): the meeting service
   * must refuse it, and nobody in the meeting hears of it.
   */
  async refusedJoin(o: {
    meetingId?: string;
    client: 'phone' | 'web' | 'old-app';
  }): Promise<DemoRefusedReply> {
    const m = this.#stage.cast().meeting(o.meetingId);
    const who = REFUSED_CLIENTS[o.client];
    const bot = this.#stage.cast().stranger(m, who);
    try {
      await bot.join();
    } catch (error) {
      if (!(error instanceof RoomdError)) throw error;
      const reason = error.context['reason'];
      return {
        refused: true,
        code: error.code,
        ...(typeof reason === 'string' ? { reason } : {}),
        message: error.message,
      };
    }
    await bot.leave();
    return {
      refused: false,
      code: 'admitted',
      message: `The meeting service let ${who.name} into "${m.title}".`,
    };
  }

  /** Stop the relay and start it again on the same address; everyone in a meeting reconnects. */
  async restartRelay(): Promise<string> {
    await this.#stage.restartRelay();
    return `The meeting relay restarted at ${this.#stage.signalUrl()}; everyone reconnects.`;
  }

  /** A far-end person (default: the first one in who has a screen to share) shares slides. */
  share(o: { meetingId?: string; name?: string } = {}): Promise<string> {
    const cast = this.#stage.cast();
    const m = cast.meeting(o.meetingId);
    const bot = this.#person(m, o.name);
    cast.shareSlides(bot);
    return Promise.resolve(`${bot.name} shares slides in "${m.title}".`);
  }

  /** Whoever shares slides on the director's word stops. */
  async unshare(o: { meetingId?: string } = {}): Promise<string> {
    const cast = this.#stage.cast();
    const m = cast.meeting(o.meetingId);
    const bot = cast.slidesSharer(m);
    if (bot === undefined || !(await cast.stopSlides(bot)))
      throw new RoomdError('core.not_found', {
        message: `Nobody the director asked to share is sharing in "${m.title}".`,
      });
    return `${bot.name} stopped sharing in "${m.title}".`;
  }

  /** A far-end person sends `text` to everyone, or privately to the room. */
  say(o: { meetingId?: string; name?: string; text: string; to: 'everyone' | 'room' }): Promise<string> {
    const cast = this.#stage.cast();
    const m = cast.meeting(o.meetingId);
    const bot = this.#person(m, o.name);
    cast.say(bot, o.text, o.to);
    return Promise.resolve(
      o.to === 'room'
        ? `${bot.name} wrote privately to the room in "${m.title}".`
        : `${bot.name} wrote to everyone in "${m.title}".`,
    );
  }

  /** `name`, or the first person present who can share and chat (not a phone). */
  #person(m: DemoMeetingInfo, name: string | undefined): HeadlessParticipant {
    const cast = this.#stage.cast();
    const present = m.bots.filter(isPresent);
    const bot =
      name === undefined
        ? present.find((b) => cast.role(b)?.client !== 'phone')
        : present.find((b) => b.name === name);
    if (bot === undefined)
      throw new RoomdError('core.not_found', {
        message:
          name === undefined
            ? `Nobody who can do that is in "${m.title}".`
            : `Nobody called "${name}" is in "${m.title}".`,
      });
    return bot;
  }

  unplug(o: { device: DemoDevice }): Promise<string> {
    return this.#stage.devices.unplug(o.device);
  }

  replug(o: { device: DemoDevice }): Promise<string> {
    return this.#stage.devices.replug(o.device);
  }
}
