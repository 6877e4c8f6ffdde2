/**
 * JanusClient against a fake socket (docs/decisions/0018-media-planes.md): transactions
 * in either order, refusals, deadlines from the clock, keepalives, malformed input, a lost session.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { hasCode } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { JanusClient, type JanusSocketListeners } from '../../../src/relay/janus/client.ts';
import { janusConfigFiles } from '../../../src/relay/janus/config.ts';
import {
  decodeJanusMessage,
  decodeVideoRoom,
  MAX_JANUS_MESSAGE_BYTES,
} from '../../../src/relay/janus/messages.ts';

interface Sent {
  janus: string;
  transaction: string;
  [k: string]: unknown;
}

function fake() {
  const sent: Sent[] = [];
  let on: JanusSocketListeners | undefined;
  let connects = 0;
  const clock = new FakeClock();
  const client = new JanusClient({
    url: 'ws://janus.test',
    clock,
    logger: silentLogger(),
    requestTimeoutMs: 1000,
    keepaliveMs: 25_000,
    connect: async (_url, listeners) => {
      connects++;
      on = listeners;
      return { send: (text) => sent.push(JSON.parse(text) as Sent), close: () => {} };
    },
  });
  const reply = (m: Record<string, unknown>) => on!.message(JSON.stringify(m));
  const last = () => sent[sent.length - 1]!;
  const tick = () => new Promise((r) => setImmediate(r));
  /** Starts a session with id 7. */
  async function up(): Promise<void> {
    const ready = client.ready();
    await tick();
    reply({ janus: 'success', transaction: last().transaction, data: { id: 7 } });
    expect(await ready).toBe(7);
  }
  const raw = (text: string) => on!.message(text);
  return {
    client,
    clock,
    sent,
    reply,
    raw,
    last,
    tick,
    up,
    close: () => on!.close(),
    connects: () => connects,
  };
}

describe('JanusClient', () => {
  it('creates a session, attaches, and resolves an async request on its event whether the ack comes first or last', async () => {
    const f = fake();
    await f.up();
    const attach = f.client.attach('janus.plugin.videoroom');
    await f.tick();
    expect(f.last()).toMatchObject({ janus: 'attach', session_id: 7, plugin: 'janus.plugin.videoroom' });
    f.reply({ janus: 'success', transaction: f.last().transaction, data: { id: 42 } });
    expect(await attach).toBe(42);

    const one = f.client.message(42, { request: 'publish' }, { type: 'offer', sdp: 'v=0' });
    const t1 = f.last().transaction;
    expect(f.last()).toMatchObject({ janus: 'message', handle_id: 42, jsep: { type: 'offer' } });
    f.reply({ janus: 'ack', transaction: t1, session_id: 7 });
    f.reply({
      janus: 'event',
      transaction: t1,
      sender: 42,
      plugindata: { plugin: 'janus.plugin.videoroom', data: { videoroom: 'event', configured: 'ok' } },
      jsep: { type: 'answer', sdp: 'v=0 answer' },
    });
    expect(await one).toEqual({
      data: { videoroom: 'event', configured: 'ok' },
      jsep: { type: 'answer', sdp: 'v=0 answer' },
    });

    const two = f.client.message(42, { request: 'start' });
    const t2 = f.last().transaction;
    f.reply({
      janus: 'event',
      transaction: t2,
      sender: 42,
      plugindata: { plugin: 'x', data: { started: 'ok' } },
    });
    f.reply({ janus: 'ack', transaction: t2 }); // late ack: ignored, not "unmatched" trouble
    expect((await two).data).toEqual({ started: 'ok' });
  });

  it('a Janus error rejects with a typed refusal carrying its code', async () => {
    const f = fake();
    await f.up();
    const p = f.client.attach('janus.plugin.nothing');
    await f.tick();
    f.reply({
      janus: 'error',
      transaction: f.last().transaction,
      error: { code: 460, reason: 'No such plugin' },
    });
    const error = await p.catch((e: unknown) => e);
    expect(hasCode(error, 'relay.media_plane_failed')).toBe(true);
    expect((error as { context: { janusError: number } }).context.janusError).toBe(460);
  });

  it('a request with no answer times out on the clock; a late answer is dropped and counted', async () => {
    const f = fake();
    await f.up();
    const p = f.client.message(1, { request: 'join' });
    const t = f.last().transaction;
    f.clock.advance(1001);
    expect(hasCode(await p.catch((e: unknown) => e), 'core.timeout')).toBe(true);
    expect(f.client.counters.timeouts).toBe(1);
    f.reply({ janus: 'success', transaction: t });
    expect(f.client.counters.unmatched).toBe(1);
  });

  it('sends a keepalive every 25 s; one unanswered loses the session and says down', async () => {
    const f = fake();
    await f.up();
    const downs: string[] = [];
    f.client.events.on('down', (d) => downs.push(d.reason));
    f.clock.advance(25_000);
    expect(f.last()).toMatchObject({ janus: 'keepalive', session_id: 7 });
    f.reply({ janus: 'ack', transaction: f.last().transaction });
    f.clock.advance(25_000);
    expect(f.sent.filter((m) => m.janus === 'keepalive')).toHaveLength(2);
    f.clock.advance(1001);
    await f.tick();
    expect(downs).toEqual(['keepalive unanswered']);
    expect(f.client.session).toBeUndefined();
  });

  it('pushes events of handles; drops and counts malformed messages; never throws', async () => {
    const f = fake();
    await f.up();
    const events: string[] = [];
    f.client.events.on('handle-event', (e) => events.push(`${e.handle}:${e.message.janus}`));
    f.reply({ janus: 'webrtcup', session_id: 7, sender: 42 });
    f.reply({ janus: 'hangup', session_id: 7, sender: 43, reason: 'DTLS alert' });
    const deep = `${'['.repeat(40)}${']'.repeat(40)}`;
    const huge = `{"janus":"event","x":"${'x'.repeat(MAX_JANUS_MESSAGE_BYTES)}"}`;
    for (const bad of ['not json', deep, '{"janus":5}', '{"janus":"event","sender":-1}', huge])
      expect(() => f.raw(bad)).not.toThrow();
    expect(events).toEqual(['42:webrtcup', '43:hangup']);
    expect(f.client.counters.malformed).toBe(5);
  });

  it('a lost socket rejects what is pending, says down, and the next request opens a new session', async () => {
    const f = fake();
    await f.up();
    const downs: string[] = [];
    f.client.events.on('down', (d) => downs.push(d.reason));
    const p = f.client.message(1, { request: 'join' });
    f.close();
    expect(hasCode(await p.catch((e: unknown) => e), 'transport.disconnected')).toBe(true);
    expect(downs).toEqual(['socket closed']);
    const again = f.client.ready();
    await f.tick();
    expect(f.connects()).toBe(2);
    f.reply({ janus: 'success', transaction: f.last().transaction, data: { id: 8 } });
    expect(await again).toBe(8);
    expect(f.client.counters.reconnects).toBe(1);
    f.client.close();
    expect(hasCode(await f.client.ready().catch((e: unknown) => e), 'transport.closed')).toBe(true);
  });
});

describe('Janus decoders', () => {
  it('accept what Janus sends and refuse shapes, sizes and depths they do not expect, with typed errors', () => {
    expect(
      decodeJanusMessage('{"janus":"success","transaction":"a","data":{"id":4503599627370495}}').ok,
    ).toBe(true);
    for (const bad of [
      '',
      '{',
      '{"janus":"x","session_id":1.5}',
      '{"janus":"x","jsep":{"type":"pranswer","sdp":""}}',
      '{"janus":"x","transaction":""}',
    ]) {
      const d = decodeJanusMessage(bad);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error.code).toBe('protocol.malformed');
    }
    expect(
      decodeVideoRoom('joined', { videoroom: 'joined', room: 1, id: 2, publishers: [{ id: 3 }] }).ok,
    ).toBe(true);
    expect(
      decodeVideoRoom('joined', {
        videoroom: 'joined',
        room: 1,
        id: 2,
        publishers: new Array(1001).fill({ id: 3 }),
      }).ok,
    ).toBe(false);
    const refused = decodeVideoRoom('created', { videoroom: 'event', error_code: 427, error: 'Room exists' });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('relay.media_plane_failed');
  });

  it('the generated Janus config loads only the VideoRoom and WebSocket modules, on the given interface and address', () => {
    const files = janusConfigFiles({
      folder: '/run/j',
      wsAddress: '10.0.0.2',
      iceInterface: 'veth1',
      mediaAddress: '10.0.0.2',
    });
    expect(Object.keys(files).sort()).toEqual([
      'janus.jcfg',
      'janus.plugin.videoroom.jcfg',
      'janus.transport.websockets.jcfg',
    ]);
    const main = files['janus.jcfg']!;
    expect(main).toContain('ice_enforce_list = "veth1"');
    expect(main).toContain('full_trickle = false');
    expect(main).toContain('configs_folder = "/run/j"');
    expect(main).not.toMatch(/disable = "[^"]*libjanus_videoroom/);
    expect(main).toMatch(/transports: \{\n\tdisable = "[^"]*libjanus_http\.so/);
    expect(files['janus.transport.websockets.jcfg']).toContain('ws_ip = "10.0.0.2"');
  });
});
