/**
 * Entry point of the media worker process (docs/decisions/0013-media-worker.md): started by
 * worker-peer.ts with its pipe to roomd on file descriptor 3, it hosts the real wrtc peer
 * connections. It exits when roomd asks, when roomd's end of the pipe closes (roomd is gone), or
 * when the stream from roomd is broken. Nothing is written to stdout; notes go to stderr.
 */
import { Socket } from 'node:net';
import { SystemClock } from '../core/clock.ts';
import { WorkerHost } from './worker-host.ts';
import { batchedWriter } from './worker-process.ts';
import { WrtcPeerConnectionFactory } from './wrtc-peer.ts';

const PIPE_FD = 3;

process.title = 'roomd-media';
const pipe = new Socket({ fd: PIPE_FD, readable: true, writable: true });
const host = new WorkerHost({
  peers: new WrtcPeerConnectionFactory(),
  clock: new SystemClock(),
  pid: process.pid,
  memory: () => process.memoryUsage.rss(),
  log: (line) => process.stderr.write(`${line}\n`),
  write: batchedWriter(pipe),
  exit: (code) => {
    pipe.end(() => process.exit(code));
    // roomd may not be reading any more; do not linger on a full pipe.
    setTimeout(() => process.exit(code), 1000).unref();
  },
});
pipe.on('data', (chunk: Buffer) => host.receive(chunk));
pipe.on('end', () => host.stop(0));
// roomd is gone (its end closed under us): nothing to report to, nobody to serve.
pipe.on('error', () => process.exit(1));
host.start();
