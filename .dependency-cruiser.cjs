/**
 * Import rules: no cycles, and layers import downward only (docs/decisions/0001-toolchain.md).
 * Order, lowest first; a layer may import itself and any layer with a lower rank. Outside src/:
 * device/ (emulators) may use a few low layers; demo/ (the demo's assembly) may use src/ and device/.
 */
const layers = [
  ['core', 0],
  ['protocol', 1],
  ['e2ee', 2],
  ['config', 2],
  ['system', 2],
  ['transport', 3],
  ['media', 4],
  ['devices', 4],
  ['relay', 5],
  ['meeting', 6],
  ['http', 7],
  ['app', 8],
];

const forbidden = [
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  {
    name: 'src-not-device',
    comment: 'The daemon never uses the emulators in device/: only the demo (demo/) and the tests do.',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^device/' },
  },
  {
    name: 'src-not-demo',
    comment:
      'The daemon does not depend on the demo: `roomd demo` loads demo/command.ts by path (src/app/demo-command.ts).',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^demo/' },
  },
  {
    name: 'device-not-demo',
    comment: 'The emulators stand alone; the demo assembles them.',
    severity: 'error',
    from: { path: '^device/' },
    to: { path: '^demo/' },
  },
  {
    name: 'device-uses-low-layers',
    comment: 'Emulators may reuse core and device codecs, nothing above.',
    severity: 'error',
    from: { path: '^device/' },
    to: { path: '^src/(?!(core|devices|protocol|transport)/)' },
  },
  {
    name: 'relay-independent',
    comment: 'The relay is a separate service: it never imports the client, devices or media playout.',
    severity: 'error',
    from: { path: '^src/relay/' },
    to: { path: '^src/(devices|meeting|http)/' },
  },
  {
    name: 'client-not-relay',
    comment: 'The client talks to the relay over the wire only.',
    severity: 'error',
    from: { path: '^src/(meeting|devices|media|http)/' },
    to: { path: '^src/relay/' },
  },
  {
    name: 'serialport-only-in-transport',
    severity: 'error',
    from: { path: '^src/(?!transport/)' },
    to: { path: 'node_modules/(serialport|@serialport)/' },
  },
  {
    name: 'wrtc-only-in-the-media-worker',
    comment:
      'The native WebRTC library can crash the process that hosts it: only the media worker process ' +
      '(worker-main.ts, through wrtc-peer.ts) loads it; nothing else imports either, tests included ' +
      '(docs/decisions/0013-media-worker.md).',
    severity: 'error',
    from: { pathNot: '^src/transport/(worker-main|wrtc-peer)\\.ts$' },
    to: { path: '(node_modules/@roamhq/wrtc/|^src/transport/wrtc-peer\\.ts$)' },
  },
  {
    name: 'web-uses-shared-layers',
    comment:
      'The web client (web/) shares the pure layers with the daemon: core, protocol, e2ee, the ' +
      'meeting machine, the media link and its stream path, and the reconnect backoff; never the ' +
      "daemon's shells, transport, capture and playout processes, or " +
      'anything Node-only ' +
      '(docs/decisions/0022-one-core-in-node-and-browser.md).',
    severity: 'error',
    from: { path: '^web/src/' },
    to: {
      path: '^src/',
      pathNot:
        '^src/(core|protocol|e2ee)/|^src/meeting/(machine|machine-types|machine-info|machine-timers|status|snapshot-view|policy-gate|media-link|control|chat|share|data-message|lag-monitor)\\.ts$|^src/media/(types|envelope|stats|codec-string|paint-size)\\.ts$|^src/media/stream/|^src/transport/backoff\\.ts$',
    },
  },
  {
    name: 'web-not-node',
    comment: 'Browser code imports no Node built-in; the browser twins (*.browser.ts) neither.',
    severity: 'error',
    from: { path: '(^web/src/|\\.browser\\.ts$)' },
    to: { dependencyTypes: ['core'] },
  },
  {
    name: 'web-not-node-packages',
    comment:
      'Nothing the web client runs reaches a Node-only package (type-only imports erase at build; ' +
      'the bundle test checks the built graph, test/unit/web/bundle.test.ts).',
    severity: 'error',
    from: { path: '(^web/src/|\\.browser\\.ts$)' },
    to: {
      path: 'node_modules/(ws|pino|pino-pretty|fastify|@fastify/[^/]+|@roamhq/wrtc|serialport|@serialport/[^/]+|usb|prom-client)/',
      reachable: true,
    },
  },
];

for (const [name, rank] of layers) {
  const higher = layers.filter(([, r]) => r > rank).map(([n]) => n);
  const sameRankOthers = layers.filter(([n, r]) => r === rank && n !== name).map(([n]) => n);
  const banned = [...higher, ...sameRankOthers];
  if (banned.length === 0) continue;
  forbidden.push({
    name: `layer-${name}`,
    comment: `${name} may not import ${banned.join(', ')}`,
    severity: 'error',
    from: { path: `^src/${name}/` },
    to: { path: `^src/(${banned.join('|')})/` },
  });
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
