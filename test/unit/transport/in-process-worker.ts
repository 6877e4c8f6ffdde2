/**
 * A media worker in the test's own process: the real WorkerHost over the in-memory FakePeerNetwork,
 * joined to the factory by byte chunks delivered on later macrotasks (as a pipe would). Tests can
 * kill it (as a crash would), silence it (as a hang would), or write any bytes as it (as a corrupted
 * worker would).
 */
import { FakeClock } from '../../../src/core/clock.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import type { PeerConnection } from '../../../src/transport/peer.ts';
import { WorkerHost } from '../../../src/transport/worker-host.ts';
import type { WorkerLauncher, WorkerLink } from '../../../src/transport/worker-peer.ts';

export class InProcessWorker implements WorkerLink {
  readonly pid: number;
  readonly host: WorkerHost;
  readonly net: FakePeerNetwork;
  /** The connections this worker made (they die with it). */
  readonly made: PeerConnection[] = [];
  /** The host's own clock (its buffered-amount polling). */
  readonly clock = new FakeClock();
  /** Frames the factory wrote, decoded by the host (for assertions on what roomd asked). */
  readonly received: Uint8Array[] = [];
  referenced = true;
  killedWith: string | null = null;
  /** When true the host gets nothing (a hung worker). */
  silent = false;
  /** When true nothing the host writes arrives (a worker that never speaks). */
  muted = false;
  #alive = true;
  readonly #data: ((chunk: Uint8Array) => void)[] = [];
  readonly #exit: ((how: { code: number | null; signal: string | null }) => void)[] = [];

  constructor(pid: number, net: FakePeerNetwork) {
    this.pid = pid;
    this.net = net;
    const made = this.made;
    this.host = new WorkerHost({
      peers: {
        create: () => {
          const pc = net.create();
          made.push(pc);
          return pc;
        },
        get openCount() {
          return net.openCount;
        },
      },
      clock: this.clock,
      pid,
      write: (frame) => {
        const copy = frame.slice();
        setImmediate(() => {
          if (this.#alive && !this.muted) for (const l of this.#data) l(copy);
        });
      },
      exit: (code) => setImmediate(() => this.#exited(code, null)),
    });
    setImmediate(() => this.host.start());
  }

  get alive(): boolean {
    return this.#alive;
  }

  write(frame: Uint8Array): void {
    const copy = frame.slice();
    setImmediate(() => {
      if (!this.#alive || this.silent) return;
      this.received.push(copy);
      this.host.receive(copy);
    });
  }

  /** Bytes as if the worker wrote them. */
  inject(bytes: Uint8Array): void {
    setImmediate(() => {
      if (this.#alive) for (const l of this.#data) l(bytes);
    });
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.#data.push(listener);
  }
  onExit(listener: (how: { code: number | null; signal: string | null }) => void): void {
    this.#exit.push(listener);
  }
  kill(signal: NodeJS.Signals): void {
    if (!this.#alive) return;
    this.killedWith = signal;
    // The process is gone: its connections end with it (the far ends see them drop).
    this.#alive = false;
    for (const pc of this.made) pc.close();
    setImmediate(() => this.#exited(null, signal));
  }
  ref(): void {
    this.referenced = true;
  }
  unref(): void {
    this.referenced = false;
  }

  #exited(code: number | null, signal: string | null): void {
    this.#alive = false;
    const listeners = this.#exit.splice(0);
    for (const l of listeners) l({ code, signal });
  }
}

/** Workers started by this launcher share one fake network, so their connections can reach each other. */
export function inProcessLauncher(net = new FakePeerNetwork()): {
  launcher: WorkerLauncher;
  workers: InProcessWorker[];
} {
  const workers: InProcessWorker[] = [];
  return {
    workers,
    launcher: () => {
      const w = new InProcessWorker(1000 + workers.length, net);
      workers.push(w);
      return w;
    },
  };
}
