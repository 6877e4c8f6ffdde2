/**
 * Small network probes the network tests run inside a site (`node --import tsx probe.ts <command>`,
 * through `Site.exec`/`Site.spawn`); each prints one JSON line with what it saw.
 *
 *   serve                          TCP echo on 443, TCP sink on 9000 (answers the byte count when the
 *                                  sender ends), UDP counter on 5000 (by the datagram's text),
 *                                  GET /udp on 8080 (the counts); prints {"ready":true}
 *   udp HOST PORT COUNT TAG        sends COUNT datagrams "TAG", 1 ms apart; {sent, errors}
 *   tcp HOST PORT TIMEOUT_MS       {ok} or {ok:false, code}: can a TCP connection be opened?
 *   connect PROXY PORT TARGET AUTH CONNECT through an HTTP proxy (AUTH user:password or -);
 *                                  {status, echoed}: the proxy's status, and whether "ping" came back
 *   bulk HOST PORT BYTES           sends BYTES to the sink; {bytes, ms, kbit}
 *   listen PORT                    a TCP listener that accepts and closes; prints {"ready":true}
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createConnection, createServer, type Socket } from 'node:net';

const [command = '', ...args] = process.argv.slice(2);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function listening(server: { once(event: 'listening', cb: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.once('listening', resolve));
}

async function serve(): Promise<void> {
  const counts: Record<string, number> = {};
  const echo = createServer((s) => s.pipe(s).on('error', () => s.destroy()));
  const sink = createServer((s) => {
    let bytes = 0;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    s.on('end', () => s.end(`${bytes}\n`));
    s.on('error', () => s.destroy());
  });
  const udp = createSocket('udp4');
  udp.on('message', (m) => {
    const tag = m.toString('utf8').slice(0, 32);
    counts[tag] = (counts[tag] ?? 0) + 1;
  });
  const http = createHttpServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counts));
  });
  echo.listen(443);
  sink.listen(9000);
  udp.bind(5000);
  http.listen(8080);
  await Promise.all([listening(echo), listening(sink), listening(udp), listening(http)]);
  print({ ready: true });
}

async function udpSend(host: string, port: number, count: number, tag: string): Promise<void> {
  const s = createSocket('udp4');
  let sent = 0;
  let errors = 0;
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) =>
      s.send(tag, port, host, (error) => {
        if (error === null) sent++;
        else errors++;
        resolve();
      }),
    );
    await new Promise((r) => setTimeout(r, 1));
  }
  s.close();
  print({ sent, errors });
}

function tcp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: timeoutMs });
    const done = (value: unknown) => {
      s.destroy();
      print(value);
      resolve();
    };
    s.once('connect', () => done({ ok: true }));
    s.once('timeout', () => done({ ok: false, code: 'ETIMEDOUT' }));
    s.once('error', (error: NodeJS.ErrnoException) => done({ ok: false, code: error.code }));
  });
}

function connectVia(proxyHost: string, proxyPort: number, target: string, auth: string): Promise<void> {
  return new Promise((resolve) => {
    const s: Socket = createConnection({ host: proxyHost, port: proxyPort });
    let buffer = '';
    let status = 0;
    const done = (value: unknown) => {
      s.destroy();
      print(value);
      resolve();
    };
    const timer = setTimeout(() => done({ status, echoed: false, timeout: true }), 10_000);
    s.once('connect', () => {
      const header =
        auth === '-' ? '' : `Proxy-Authorization: Basic ${Buffer.from(auth).toString('base64')}\r\n`;
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${header}\r\n`);
    });
    s.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      if (status === 0) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = Number(buffer.slice(9, 12));
        buffer = buffer.slice(end + 4);
        if (status !== 200) {
          clearTimeout(timer);
          done({ status, echoed: false });
          return;
        }
        s.write('ping');
      }
      if (buffer.includes('ping')) {
        clearTimeout(timer);
        done({ status, echoed: true });
      }
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ status, echoed: false, code: error.code });
    });
    s.once('end', () => {
      clearTimeout(timer);
      done({ status, echoed: false });
    });
  });
}

function bulk(host: string, port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = createConnection({ host, port }, () => {
      const chunk = Buffer.alloc(64 * 1024, 7);
      let left = bytes;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    let answer = '';
    s.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    s.once('end', () => {
      const ms = performance.now() - started;
      const received = Number(answer.trim());
      print({ bytes: received, ms, kbit: (received * 8) / ms });
      resolve();
    });
    s.once('error', reject);
  });
}

async function listen(port: number): Promise<void> {
  const server = createServer((s) => s.end());
  server.listen(port);
  await listening(server);
  print({ ready: true });
}

switch (command) {
  case 'serve':
    await serve();
    break;
  case 'udp':
    await udpSend(args[0]!, Number(args[1]), Number(args[2]), args[3]!);
    break;
  case 'tcp':
    await tcp(args[0]!, Number(args[1]), Number(args[2]));
    break;
  case 'connect':
    await connectVia(args[0]!, Number(args[1]), args[2]!, args[3]!);
    break;
  case 'bulk':
    await bulk(args[0]!, Number(args[1]), Number(args[2]));
    break;
  case 'listen':
    await listen(Number(args[0]));
    break;
  default:
    process.stderr.write(`probe: unknown command ${JSON.stringify(command)}\n`);
    process.exitCode = 2;
}
