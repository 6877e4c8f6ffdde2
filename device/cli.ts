/**
 * Run an emulator for people: `node --import tsx device/cli.ts panel|camera|speakerphone
 * [--dir DIR] [--web PORT] [--profile NAME]`. Creates a socat pty pair, attaches the emulator to
 * one end and prints the path roomd should open (its config value). `--profile` picks the real
 * behaviour the emulator plays (docs/hardware.md §Emulator profiles; the names are listed by a
 * wrong one). Reads simple commands from stdin (`help` lists them). The panel can also show a small
 * web view of its current page (--web); it follows the speed roomd sets on its end of the pty
 * (device/panel/line.ts).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SerialPortByteStream } from '../src/transport/serial/serialport.ts';
import { EMULATOR_PROFILES, ViscaEmulator, type ViscaEmulatorProfileName } from './camera/emulator.ts';
import { NextionEmulator } from './panel/emulator.ts';
import { PANEL_PROFILES, type PanelProfileName } from './panel/profiles.ts';
import { type PtyRateWatch, watchPtyRate } from './panel/line.ts';
import { createPtyPair } from './pty.ts';
import {
  FakeSpeakerphone,
  SPEAKERPHONE_PROFILES,
  type SpeakerphoneProfile,
} from './speakerphone/emulator.ts';
import { serveSpeakerphone } from './speakerphone/serve.ts';

type Kind = 'panel' | 'camera' | 'speakerphone';
const HELP: Record<Kind, string> = {
  panel: 'show | state | touch <component> | slide <component> <value> | restart | quit',
  camera: 'state | silent on|off | fail <hex code> | network-change | quit',
  speakerphone: 'mute | hook on|off | leds | quit',
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Each emulator's profile names; the first is its default. */
const PROFILES: Record<Kind, readonly string[]> = {
  panel: Object.keys(PANEL_PROFILES),
  camera: Object.keys(EMULATOR_PROFILES),
  speakerphone: SPEAKERPHONE_PROFILES,
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** The panel's RGB565 text colour as CSS; 0 (black, the emulator's default) shows as the page's colour. */
function cssColour(rgb565: number): string {
  if (rgb565 === 0) return 'inherit';
  const r = ((rgb565 >> 11) & 0x1f) << 3;
  const g = ((rgb565 >> 5) & 0x3f) << 2;
  const b = (rgb565 & 0x1f) << 3;
  return `rgb(${r} ${g} ${b})`;
}

function panelWeb(panel: NextionEmulator, port: number): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/touch') {
      try {
        panel.touch(url.searchParams.get('name') ?? '');
      } catch {
        // Touching something hidden or unknown does nothing, like on the glass.
      }
      res.writeHead(303, { location: '/' }).end();
      return;
    }
    const rows = panel.pageSpec.components
      .filter((c) => panel.component(c.name)?.vis)
      .map((c) => {
        const s = panel.component(c.name)!;
        const label = escapeHtml(
          c.kind === 'text' || c.kind === 'button'
            ? s.txt
            : c.kind === 'picture'
              ? `pic ${s.pic}`
              : String(s.val),
        );
        return c.kind === 'button' || c.kind === 'slider'
          ? `<form method="post" action="/touch?name=${c.name}"><button>${label || c.name}</button></form>`
          : `<p><small>${c.name}</small> <span style="color:${cssColour(s.pco)}">${label}</span></p>`;
      });
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><meta http-equiv="refresh" content="1"><title>panel</title><h1>${panel.pageSpec.name}</h1>${rows.join('')}`,
      );
  });
  server.listen(port, '127.0.0.1');
  return server;
}

async function main(): Promise<void> {
  const kind = process.argv[2] as Kind | undefined;
  if (kind === undefined || !(kind in HELP)) {
    process.stderr.write(
      'usage: device/cli.ts panel|camera|speakerphone [--dir DIR] [--web PORT] [--profile NAME]\n',
    );
    process.exitCode = 2;
    return;
  }
  const profile = arg('--profile') ?? PROFILES[kind][0]!;
  if (!PROFILES[kind].includes(profile)) {
    process.stderr.write(`unknown ${kind} --profile ${profile}: ${PROFILES[kind].join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const dir = arg('--dir') ?? '/tmp/roomd-emulate';
  mkdirSync(dir, { recursive: true });
  const pty = await createPtyPair(join(dir, kind), join(dir, `${kind}-device`));
  const stream = await SerialPortByteStream.open(pty.devicePath, 9600);
  let web: Server | null = null;
  let rateWatch: PtyRateWatch | null = null;
  let handle: (words: string[]) => string;
  if (kind === 'panel') {
    const panel = new NextionEmulator(profile as PanelProfileName);
    rateWatch = watchPtyRate(pty.hostPath);
    panel.attach(stream, { hostRate: rateWatch.read });
    const port = arg('--web');
    if (port !== undefined) web = panelWeb(panel, Number(port));
    handle = ([cmd, a, b]) => {
      if (cmd === 'touch' && a) panel.touch(a);
      else if (cmd === 'slide' && a) panel.slide(a, Number(b ?? 0));
      else if (cmd === 'restart') panel.restart();
      else if (cmd === 'state')
        return `profile ${panel.profile.name}, ${panel.rate} baud, bkcmd=${panel.bkcmd}, page ${panel.page}`;
      return panel.render();
    };
    process.stdout.write(`panel: configure devices.panel.path = ${pty.hostPath}\n`);
    process.stdout.write(`panel: profile ${profile} (${panel.profile.description})\n`);
    if (port !== undefined) process.stdout.write(`panel: web view on http://127.0.0.1:${port}/\n`);
  } else if (kind === 'camera') {
    const cam = new ViscaEmulator({ profile: profile as ViscaEmulatorProfileName });
    cam.attach(stream);
    handle = ([cmd, a]) => {
      if (cmd === 'silent') cam.silent = a === 'on';
      else if (cmd === 'fail' && a) cam.failNext(Number.parseInt(a, 16));
      else if (cmd === 'network-change') cam.networkChange();
      return JSON.stringify({
        ...cam.state,
        address: cam.address,
        silent: cam.silent,
        presets: Object.fromEntries(cam.presets),
      });
    };
    process.stdout.write(`camera: configure devices.camera = { kind: 'visca', path: '${pty.hostPath}' }\n`);
    process.stdout.write(`camera: profile ${profile} (${cam.profile.name})\n`);
  } else {
    const phone = new FakeSpeakerphone(profile as SpeakerphoneProfile, pty.devicePath);
    serveSpeakerphone(stream, phone);
    handle = ([cmd, a]) => {
      if (cmd === 'mute') phone.pressMute();
      else if (cmd === 'hook') phone.setHook(a === 'on');
      return JSON.stringify(phone.leds);
    };
    process.stdout.write(`speakerphone: configure devices.speakerphone.hidraw = hidstream:${pty.hostPath}\n`);
    process.stdout.write(`speakerphone: profile ${profile}\n`);
  }
  process.stdout.write(`commands: ${HELP[kind]}\n`);
  const rl = createInterface({ input: process.stdin });
  const stop = async () => {
    rl.close();
    web?.close();
    web?.closeAllConnections();
    await rateWatch?.close();
    await stream.close();
    await pty.close();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  for await (const line of rl) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words[0] === 'quit') break;
    if (words[0] === 'help' || words.length === 0) {
      process.stdout.write(`${HELP[kind]}\n`);
      continue;
    }
    try {
      process.stdout.write(`${handle(words)}\n`);
    } catch (e) {
      process.stdout.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  await stop();
}

await main();
