/**
 * One small HTTP(S) request to the meeting service's API over node:http(s) with a TunnelAgent
 * (http-proxy.ts), so it goes through the proxy and trust the signaling socket uses — global fetch
 * cannot take an agent. The answer's body is bounded (`maxBytes`, refused without reading it all)
 * and the whole exchange has a deadline from the injected Clock.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Clock, SystemClock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { meetingServiceAgent, type NetworkSettings } from './http-proxy.ts';

export interface ApiRequest {
  method?: 'GET' | 'PUT' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Bodies larger than this are refused (`protocol.too_large`). */
  maxBytes: number;
  network?: NetworkSettings;
  clock?: Clock;
}

export interface ApiAnswer {
  status: number;
  ok: boolean;
  text: string;
}

const NO_NETWORK: NetworkSettings = { proxy: null, tlsPin: null };
const systemClock = new SystemClock();

/**
 * The answer to one request. Connection failures reject with the connection's own error
 * (`transport.*`, `core.timeout`) or `transport.open_failed`; a body over `maxBytes` with
 * `protocol.too_large`.
 */
export function apiRequest(url: string, r: ApiRequest): Promise<ApiAnswer> {
  const u = new URL(url);
  const network = r.network ?? NO_NETWORK;
  // The connection itself gives up by the request's deadline too (http-proxy.ts).
  const agent = meetingServiceAgent(u.protocol, { timeoutMs: r.timeoutMs, ...network });
  const clock = r.clock ?? network.clock ?? systemClock;
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<ApiAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (error: RoomdError | null, answer?: ApiAnswer) => {
      if (settled) return;
      settled = true;
      clock.clear(timer);
      agent.destroy();
      if (error === null) resolve(answer as ApiAnswer);
      else {
        req.destroy();
        reject(error);
      }
    };
    const timer = clock.setTimeout(
      () =>
        finish(
          new RoomdError('core.timeout', {
            message: `The meeting service did not answer within ${r.timeoutMs} ms.`,
            context: { timeoutMs: r.timeoutMs },
          }),
        ),
      r.timeoutMs,
    );
    const req = send(u, { method: r.method ?? 'GET', headers: r.headers ?? {}, agent }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > r.maxBytes) {
          finish(
            new RoomdError('protocol.too_large', {
              message: `the meeting service sent an answer larger than ${r.maxBytes} bytes`,
            }),
          );
          return;
        }
        parts.push(chunk);
      });
      res.on('error', (error) => finish(connectionError(error, u)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        finish(null, {
          status,
          ok: status >= 200 && status < 300,
          text: Buffer.concat(parts).toString('utf8'),
        });
      });
    });
    req.on('error', (error) => finish(connectionError(error, u)));
    req.end(r.body);
  });
}

function connectionError(error: Error, u: URL): RoomdError {
  if (error instanceof RoomdError) return error;
  const errno = (error as NodeJS.ErrnoException).code ?? 'error';
  return new RoomdError('transport.open_failed', {
    message: `The connection to ${u.host} failed (${errno}).`,
    context: { host: u.hostname, errno },
    cause: error,
  });
}
