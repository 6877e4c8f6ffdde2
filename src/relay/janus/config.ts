/**
 * The configuration folder roomd runs Janus with (docs/decisions/0018-media-planes.md,
 * "Running Janus"): `janus -F <folder>`. Pure: it returns file names and contents; the caller writes them.
 * Only what the media plane uses is loaded (the VideoRoom plugin and the WebSocket transport), the
 * WebSocket API listens on one address, ICE is enforced to one interface (Janus never gathers on
 * loopback), candidates go in Janus's SDP (half-trickle), and there is no STUN.
 */

/** Plugins, transports, loggers and event handlers the Debian package ships that roomd never uses. */
const UNUSED = {
  plugins: [
    'audiobridge',
    'duktape',
    'echotest',
    'lua',
    'nosip',
    'recordplay',
    'sip',
    'streaming',
    'textroom',
    'videocall',
    'voicemail',
  ],
  transports: ['http', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'],
  loggers: ['jsonlog'],
  events: ['gelfevh', 'mqttevh', 'nanomsgevh', 'rabbitmqevh', 'sampleevh', 'wsevh'],
} as const;

/** Where the Debian package puts Janus's modules. */
export const DEBIAN_JANUS_LIB = '/usr/lib/x86_64-linux-gnu/janus';

export interface JanusConfigOptions {
  /** The folder the files will be written to (Janus reads the plugin configs from it). */
  folder: string;
  /** Address the WebSocket API listens on. */
  wsAddress: string;
  /** Default 8188. */
  wsPort?: number;
  /** The one interface ICE may use (Janus's own address on it goes in its SDP). */
  iceInterface: string;
  /** Janus's address on that interface, written into its SDP. */
  mediaAddress: string;
  /** UDP ports for media, default 20000-29999. */
  udpPorts?: { min: number; max: number };
  /** 0-7; above 2 Janus logs one warning per queued SCTP message under load. Default 2. */
  debugLevel?: number;
  /** Janus's module folder (default: the Debian package's). */
  libFolder?: string;
  /** Seconds a session lives without a keepalive (Janus default 60; the client sends one every 25 s). */
  sessionTimeoutSeconds?: number;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;
const disable = (kind: keyof typeof UNUSED, suffix: string): string =>
  quote(UNUSED[kind].map((n) => `libjanus_${n}${suffix}.so`).join(','));

/** The files of Janus's configuration folder, by name. */
export function janusConfigFiles(o: JanusConfigOptions): Record<string, string> {
  const lib = o.libFolder ?? DEBIAN_JANUS_LIB;
  const ports = o.udpPorts ?? { min: 20000, max: 29999 };
  return {
    'janus.jcfg': `general: {
\tconfigs_folder = ${quote(o.folder)}
\tplugins_folder = ${quote(`${lib}/plugins`)}
\ttransports_folder = ${quote(`${lib}/transports`)}
\tevents_folder = ${quote(`${lib}/events`)}
\tloggers_folder = ${quote(`${lib}/loggers`)}
\tdebug_level = ${o.debugLevel ?? 2}
\tinterface = ${quote(o.mediaAddress)}
\tsession_timeout = ${o.sessionTimeoutSeconds ?? 60}
}
media: {
\tipv6 = false
\trtp_port_range = ${quote(`${ports.min}-${ports.max}`)}
}
nat: {
\tfull_trickle = false
\tignore_mdns = true
\tice_enforce_list = ${quote(o.iceInterface)}
}
plugins: {
\tdisable = ${disable('plugins', '')}
}
transports: {
\tdisable = ${disable('transports', '')}
}
loggers: {
\tdisable = ${disable('loggers', '')}
}
events: {
\tbroadcast = false
\tdisable = ${disable('events', '')}
}
`,
    'janus.transport.websockets.jcfg': `general: {
\tjson = "compact"
\tws = true
\tws_ip = ${quote(o.wsAddress)}
\tws_port = ${o.wsPort ?? 8188}
\twss = false
}
admin: {
\tadmin_ws = false
\tadmin_wss = false
}
`,
    'janus.plugin.videoroom.jcfg': 'general: {\n}\n',
  };
}
