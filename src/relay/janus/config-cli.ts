/**
 * `roomd relay janus-config` (docs/admin.md §Running the relay with Janus): writes the configuration
 * folder the relay's Janus runs with (`janus -F DIR`, config.ts), as systemd/roomd-janus.service does
 * before starting Janus.
 *
 *   roomd relay janus-config --out DIR --ice-interface IFACE --media-address ADDR
 *                            [--ws-address 127.0.0.1] [--ws-port 8188] [--udp-ports 20000-29999]
 *                            [--lib-folder DIR] [--debug-level 2]
 */
import * as fsp from 'node:fs/promises';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode } from '../../core/exit-codes.ts';
import { writeFileAtomic } from '../../core/store.ts';
import { janusConfigFiles, type JanusConfigOptions } from './config.ts';

export const JANUS_CONFIG_USAGE =
  'usage: roomd relay janus-config --out DIR --ice-interface IFACE --media-address ADDR ' +
  '[--ws-address 127.0.0.1] [--ws-port 8188] [--udp-ports MIN-MAX] [--lib-folder DIR] [--debug-level 0-7]';

/** An interface name as Linux allows it (at most 15 characters, no slash or space). */
const IFACE = /^[A-Za-z0-9_.:-]{1,15}$/;

/** Parses the arguments into config.ts's options, or says what is wrong. */
export function janusConfigOptions(args: readonly string[]): JanusConfigOptions | string {
  const { values } = parseArgs({
    args: [...args],
    options: {
      out: { type: 'string' },
      'ice-interface': { type: 'string' },
      'media-address': { type: 'string' },
      'ws-address': { type: 'string' },
      'ws-port': { type: 'string' },
      'udp-ports': { type: 'string' },
      'lib-folder': { type: 'string' },
      'debug-level': { type: 'string' },
    },
    strict: true,
  });
  const out = values.out;
  const iface = values['ice-interface'];
  const media = values['media-address'];
  if (out === undefined || iface === undefined || media === undefined)
    return '--out, --ice-interface and --media-address are needed';
  if (!IFACE.test(iface)) return '--ice-interface must be a network interface name';
  if (isIP(media) !== 4) return '--media-address must be an IPv4 address (Janus runs with ipv6 = false)';
  const wsAddress = values['ws-address'] ?? '127.0.0.1';
  if (isIP(wsAddress) === 0) return '--ws-address must be an IP address';
  const wsPort = Number(values['ws-port'] ?? 8188);
  if (!Number.isInteger(wsPort) || wsPort < 1 || wsPort > 65535) return '--ws-port must be 1-65535';
  const debugLevel = Number(values['debug-level'] ?? 2);
  if (!Number.isInteger(debugLevel) || debugLevel < 0 || debugLevel > 7) return '--debug-level must be 0-7';
  let udpPorts: { min: number; max: number } | undefined;
  if (values['udp-ports'] !== undefined) {
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(values['udp-ports']);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (m === null || min < 1024 || max > 65535 || min > max)
      return '--udp-ports must be MIN-MAX within 1024-65535';
    udpPorts = { min, max };
  }
  return {
    folder: path.resolve(out),
    wsAddress,
    wsPort,
    iceInterface: iface,
    mediaAddress: media,
    debugLevel,
    ...(udpPorts === undefined ? {} : { udpPorts }),
    ...(values['lib-folder'] === undefined ? {} : { libFolder: path.resolve(values['lib-folder']) }),
  };
}

/** Writes the folder (each file atomically, mode 0644: Janus runs as its own user). */
export async function janusConfigCommand(
  args: readonly string[],
  io: { stdout: (line: string) => void; stderr: (line: string) => void },
): Promise<number> {
  const options = janusConfigOptions(args);
  if (typeof options === 'string') {
    io.stderr(`${options}\n${JANUS_CONFIG_USAGE}`);
    return ExitCode.usage;
  }
  await fsp.mkdir(options.folder, { recursive: true, mode: 0o755 });
  const files = janusConfigFiles(options);
  for (const [name, text] of Object.entries(files))
    await writeFileAtomic(path.join(options.folder, name), text, { mode: 0o644 });
  io.stdout(
    JSON.stringify({
      event: 'janus-config',
      folder: options.folder,
      files: Object.keys(files),
      api: `ws://${options.wsAddress}:${options.wsPort ?? 8188}`,
    }),
  );
  return ExitCode.ok;
}
