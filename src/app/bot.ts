/**
 * `roomd bot`: headless participants that join a meeting, send synthetic encrypted media, verify
 * what they decrypt, and print their security code and shield as JSON lines. They can also chat
 * (docs/protocol.md "# Chat"): say something once secure, answer what is said to them, and print
 * the chat messages they receive.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { type OrgKey, orgAnchor, readOrgKey, validOrgName } from '../config/org-key.ts';
import { SystemClock } from '../core/clock.ts';
import { humanMessage } from '../core/errors.ts';
import { ExitCode } from '../core/exit-codes.ts';
import { createLogger } from '../core/logger.ts';
import {
  type IdentityCertificate,
  type IdentityKind,
  issueCertificate,
  type TrustOptions,
} from '../e2ee/index.ts';
import { createAudioCapture, createVideoCapture } from '../media/capture.ts';
import { validChatText } from '../meeting/chat.ts';
import { HeadlessParticipant } from '../meeting/headless.ts';
import { NodeProcessRunner } from '../system/process.ts';
import { CLIENT_TYPES, type ClientType } from '../protocol/vocabulary.ts';
import { WorkerPeerConnectionFactory } from '../transport/worker-peer.ts';
import type { Command } from './command.ts';

export function ephemeralIdentity(prefix = 'bot'): {
  deviceId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
} {
  const secretKey = ed25519.utils.randomSecretKey();
  return {
    deviceId: `${prefix}-${randomBytes(5).toString('hex')}`,
    publicKey: ed25519.getPublicKey(secretKey),
    secretKey,
  };
}

const DAY_MS = 86_400_000;

/**
 * A certificate from `org` that `identity` is `name` (docs/admin.md §Organization identities), valid
 * from an hour before `now` for `days` days. For the demo's far-end people and `roomd bot --org-key`.
 */
export function certify(
  org: OrgKey,
  identity: { publicKey: Uint8Array },
  name: string,
  kind: IdentityKind,
  now: number,
  days = 365,
): IdentityCertificate {
  return issueCertificate(
    {
      org: org.org,
      name,
      kind,
      key: identity.publicKey,
      notBefore: now - 3_600_000,
      notAfter: now + days * DAY_MS,
    },
    org.secretKey,
  );
}

/** Trust for a participant of `org`: its anchor, our certificate (if any), the wall clock of `clock`. */
export function orgTrust(
  org: OrgKey,
  certificate: IdentityCertificate | undefined,
  clock: { now(): number },
): TrustOptions {
  return {
    anchors: [orgAnchor(org)],
    ...(certificate === undefined ? {} : { certificate }),
    wallClock: () => clock.now(),
  };
}

/** Real encoded media from ffmpeg's test sources, small enough for many bots on one box. */
function ffmpegCaptures(i: number, deps: Parameters<typeof createVideoCapture>[2]) {
  return [
    createVideoCapture(
      { type: 'test', fontFile: null, label: `bot ${i + 1}` },
      { codec: 'vp8', width: 320, height: 180, framerate: 12, bitrateKbps: 250 },
      deps,
      // One encoder, no spare: many bots share one box, and their keyframes come on schedule.
      { encoders: 'single' },
    ),
    createAudioCapture({ type: 'test', frequencyHz: 440 + 55 * i }, { bitrateKbps: 24 }, deps),
  ];
}

export const bot: Command = {
  summary: 'Run headless participants in a meeting (demo, tests, load).',
  usage: `roomd bot --meeting ID [options]

Options:
  --relay URL        Signaling URL of the meeting service (default: ws://127.0.0.1:7443/v1/signal)
  --meeting ID       Meeting to join
  --passcode CODE    Meeting passcode
  --name NAME        Display name (default: Bot); with --count, numbered
  --client TYPE      ${CLIENT_TYPES.join('|')} (default: desktop)
  --count N          Run N participants in this process (default: 1)
  --duration S       Leave after S seconds (default: run until Ctrl-C)
  --media KIND       synthetic (self-verifying frames, cheap) or ffmpeg (real VP8 + Opus from
                     ffmpeg's test sources, 320x180) (default: synthetic)
  --video-fps N      Synthetic video frames per second (default: 15; 0 for none)
  --report S         Print a status line every S seconds (default: 5)
  --org-key FILE     Certify each participant (kind bot, its display name) with this organization
                     key file ('roomctl identity org-init') and trust that organization
  --say TEXT         Say TEXT to everyone in the chat once the meeting is secure
  --reply TEXT       Answer every chat message said to it, privately or to everyone, with TEXT
                     in the same conversation (at most once a second each; a message that is
                     TEXT itself is not answered)
  -h, --help         Show this help`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        relay: { type: 'string' },
        meeting: { type: 'string' },
        passcode: { type: 'string' },
        name: { type: 'string' },
        client: { type: 'string' },
        count: { type: 'string' },
        duration: { type: 'string' },
        'video-fps': { type: 'string' },
        media: { type: 'string' },
        report: { type: 'string' },
        'org-key': { type: 'string' },
        say: { type: 'string' },
        reply: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      io.out(this.usage);
      return ExitCode.ok;
    }
    if (values.meeting === undefined) {
      io.err(`roomd bot: --meeting is required.\n\n${this.usage}`);
      return ExitCode.usage;
    }
    const client = (values.client ?? 'desktop') as ClientType;
    if (!CLIENT_TYPES.includes(client)) {
      io.err(`roomd bot: --client must be one of ${CLIENT_TYPES.join(', ')}.`);
      return ExitCode.usage;
    }
    const media = values.media ?? 'synthetic';
    if (media !== 'synthetic' && media !== 'ffmpeg') {
      io.err('roomd bot: --media must be synthetic or ffmpeg.');
      return ExitCode.usage;
    }
    const count = Number(values.count ?? '1');
    const fps = Number(values['video-fps'] ?? '15');
    const reportS = Number(values.report ?? '5');
    const duration = values.duration === undefined ? null : Number(values.duration);
    for (const [name, v] of [
      ['--count', count],
      ['--video-fps', fps],
      ['--report', reportS],
    ] as const) {
      if (!Number.isFinite(v) || v < 0 || (name === '--count' && (v < 1 || v > 500))) {
        io.err(
          `roomd bot: ${name} must be a number${name === '--count' ? ' from 1 to 500' : ' of 0 or more'}.`,
        );
        return ExitCode.usage;
      }
    }
    for (const opt of ['say', 'reply'] as const) {
      const text = values[opt];
      if (text !== undefined && !validChatText(text)) {
        io.err(`roomd bot: --${opt} must be 1 to 1000 bytes of text without control characters.`);
        return ExitCode.usage;
      }
    }
    let org: OrgKey | null = null;
    if (values['org-key'] !== undefined) {
      try {
        org = await readOrgKey(values['org-key']);
      } catch (error) {
        io.err(`roomd bot: ${humanMessage(error)}`);
        return ExitCode.usage;
      }
      // Certified names follow the certificate rules (printable; room left for the numbers of --count).
      const certName = values.name ?? 'Bot';
      if (!validOrgName(certName) || certName.length > 120) {
        io.err('roomd bot: --name must be 1 to 120 printable characters to be certified.');
        return ExitCode.usage;
      }
    }
    const log = await createLogger({ level: 'warn', base: { app: 'roomd-bot' } });
    const clock = new SystemClock();
    const peers = new WorkerPeerConnectionFactory({ logger: log });
    const runner = new NodeProcessRunner();
    const bots: HeadlessParticipant[] = [];
    const baseName = values.name ?? 'Bot';
    for (let i = 0; i < count; i++) {
      const name = count === 1 ? baseName : `${baseName} ${i + 1}`;
      const identity = ephemeralIdentity();
      const trust =
        org === null ? undefined : orgTrust(org, certify(org, identity, name, 'bot', clock.now()), clock);
      const b = new HeadlessParticipant({
        meetingId: values.meeting,
        ...(values.passcode === undefined ? {} : { passcode: values.passcode }),
        relayUrl: values.relay ?? 'ws://127.0.0.1:7443/v1/signal',
        displayName: name,
        clientType: client,
        identity,
        ...(trust === undefined ? {} : { trust }),
        peers,
        clock,
        log,
        videoFps: fps,
        ...(media === 'ffmpeg' ? { captures: ffmpegCaptures(i, { runner, clock, logger: log }) } : {}),
      });
      let last = '';
      b.session.events.on('state', (s) => {
        const line = JSON.stringify({
          event: 'state',
          name,
          status: s.status,
          shield: s.shield,
          securityCode: s.securityCode,
          epoch: s.epoch,
        });
        if (line !== last) io.out(line);
        last = line;
      });
      chatWith(b, name, { say: values.say, reply: values.reply }, clock, io.out);
      bots.push(b);
    }
    let code: number = ExitCode.ok;
    await Promise.all(
      bots.map((b) =>
        b.join().catch((error: unknown) => {
          io.out(JSON.stringify({ event: 'error', name: b.name, message: humanMessage(error) }));
          code = ExitCode.unavailable;
        }),
      ),
    );
    const printReports = () => {
      for (const b of bots) io.out(JSON.stringify({ event: 'report', ...b.report() }));
    };
    const timer = reportS > 0 ? setInterval(printReports, reportS * 1000) : null;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (duration !== null) setTimeout(done, duration * 1000);
    });
    if (timer !== null) clearInterval(timer);
    for (const b of bots) io.out(JSON.stringify({ event: 'final', ...b.report() }));
    await Promise.all(bots.map((b) => b.leave()));
    await peers.close();
    return code;
  },
};

/** Time between two answers in one conversation (`--reply`): two answering bots cannot flood. */
const REPLY_EVERY_MS = 1000;

/**
 * The bot's chat: print every message received as a `chat` JSON line, say `say` to everyone once
 * secure, answer with `reply` in the conversation a message came in.
 */
function chatWith(
  b: HeadlessParticipant,
  name: string,
  opts: { say: string | undefined; reply: string | undefined },
  clock: SystemClock,
  out: (line: string) => void,
): void {
  const chat = b.media.chat;
  const printed = new Set<string>();
  const lastReply = new Map<string, number>();
  const send = (text: string, to: string): boolean => {
    const r = chat.send(text, to, clock.monotonic(), clock.now());
    out(
      JSON.stringify(
        r.ok
          ? { event: 'chat-sent', name, id: r.id, to, text }
          : { event: 'chat-error', name, to, code: r.code },
      ),
    );
    return r.ok;
  };
  chat.onChange(() => {
    const answers: string[] = [];
    for (const m of chat.messages) {
      if (m.mine || printed.has(m.id)) continue;
      printed.add(m.id);
      if (printed.size > 4096) printed.delete(printed.values().next().value as string);
      const privately = m.to !== 'all';
      out(
        JSON.stringify({
          event: 'chat',
          name,
          id: m.id,
          from: m.from,
          fromName: m.fromName,
          private: privately,
          text: m.text,
          at: m.at,
        }),
      );
      if (opts.reply === undefined || m.text === opts.reply) continue;
      const to = privately ? m.from : 'all';
      const now = clock.monotonic();
      if (now - (lastReply.get(to) ?? Number.NEGATIVE_INFINITY) < REPLY_EVERY_MS) continue;
      lastReply.set(to, now);
      answers.push(to);
    }
    // After the loop: sending adds our message to the history being read.
    for (const to of answers) send(opts.reply as string, to);
  });
  if (opts.say === undefined) return;
  const say = opts.say;
  let said = false;
  b.session.events.on('state', (s) => {
    if (!said && s.status === 'secure') said = send(say, 'all');
  });
}
