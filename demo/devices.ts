/**
 * The demo room's hardware: emulated touch panel (Nextion), VISCA camera and speakerphone, each on
 * its own pty in `<state dir>/dev/`, at the paths the demo's settings name. A director can pull a
 * device's cable and plug it back in (docs/kiosk-and-admin-api.md §roomctl demo).
 */
import * as path from 'node:path';
import { ViscaEmulator } from '../device/camera/emulator.ts';
import { NextionEmulator } from '../device/panel/emulator.ts';
import { createPtyPair, type PtyPair } from '../device/pty.ts';
import { FakeSpeakerphone } from '../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../device/speakerphone/serve.ts';
import { SerialPortByteStream } from '../src/transport/serial/serialport.ts';
import type { ByteStream } from '../src/transport/serial/stream.ts';

/** The demo's emulated devices a director can unplug. */
export type DemoDevice = 'panel' | 'camera' | 'speakerphone';

const DEVICE_NAME: Record<DemoDevice, string> = {
  panel: 'touch panel',
  camera: 'camera',
  speakerphone: 'speakerphone',
};

const BAUD = 115200;

/** One plugged-in device: the pty pair and the emulator's end of the line. */
interface Line {
  readonly pty: PtyPair;
  readonly stream: ByteStream;
  /** Stops the emulator serving this line (speakerphone only). */
  readonly stop?: () => void;
}

export class DemoDevices {
  #panel = new NextionEmulator();
  #camera = new ViscaEmulator();
  #speakerphone: FakeSpeakerphone | undefined;
  readonly #lines = new Map<DemoDevice, Line>();
  #paths: Record<DemoDevice, string> | undefined;

  /** The touch panel plugged in now (a replug makes a freshly powered one). */
  get panel(): NextionEmulator {
    return this.#panel;
  }

  get camera(): ViscaEmulator {
    return this.#camera;
  }

  get speakerphone(): FakeSpeakerphone {
    if (this.#speakerphone === undefined) throw new Error('the demo devices are not started');
    return this.#speakerphone;
  }

  /** The host-side paths the room opens, one per device. */
  get paths(): Readonly<Record<DemoDevice, string>> {
    if (this.#paths === undefined) throw new Error('the demo devices are not started');
    return this.#paths;
  }

  /** Plug all three devices in, on ptys in `devDir`. */
  async start(devDir: string): Promise<void> {
    this.#paths = {
      panel: path.join(devDir, 'panel'),
      camera: path.join(devDir, 'camera'),
      speakerphone: path.join(devDir, 'speakerphone'),
    };
    for (const device of ['panel', 'camera', 'speakerphone'] as const) await this.#plug(device);
  }

  async stop(): Promise<void> {
    const lines = [...this.#lines.values()];
    this.#lines.clear();
    for (const l of lines) l.stop?.();
    await Promise.all(lines.map((l) => l.stream.close().catch(() => {})));
    await Promise.all(lines.map((l) => l.pty.close().catch(() => {})));
  }

  /** Pull a device's cable: its line disappears from the path the room opens. */
  async unplug(device: DemoDevice): Promise<string> {
    const line = this.#lines.get(device);
    if (line === undefined) return `The ${DEVICE_NAME[device]} is already unplugged.`;
    this.#lines.delete(device);
    line.stop?.();
    await line.stream.close().catch(() => {});
    await line.pty.close();
    return `The ${DEVICE_NAME[device]} is unplugged; the room screen and the admin console say so.`;
  }

  /** Plug a device back in: a freshly powered one on a new line at the same path. */
  async replug(device: DemoDevice): Promise<string> {
    if (this.#lines.has(device)) return `The ${DEVICE_NAME[device]} is plugged in.`;
    await this.#plug(device, true);
    return `The ${DEVICE_NAME[device]} is plugged in again; the room finds it on its own.`;
  }

  async #plug(device: DemoDevice, fresh = false): Promise<void> {
    const hostPath = this.paths[device];
    const pty = await createPtyPair(hostPath, path.join(path.dirname(hostPath), `${device}-device`));
    let stream: ByteStream;
    try {
      stream = await SerialPortByteStream.open(pty.devicePath, BAUD);
    } catch (error) {
      // Not plugged in after all: leave no socat behind, and say why.
      await pty.close().catch(() => {});
      throw error;
    }
    if (device === 'panel') {
      if (fresh) this.#panel = new NextionEmulator();
      this.#panel.attach(stream);
      this.#lines.set(device, { pty, stream });
    } else if (device === 'camera') {
      if (fresh) this.#camera = new ViscaEmulator();
      this.#camera.attach(stream);
      this.#lines.set(device, { pty, stream });
    } else {
      const phone = new FakeSpeakerphone('toggle', pty.devicePath);
      this.#speakerphone = phone;
      this.#lines.set(device, { pty, stream, stop: serveSpeakerphone(stream, phone) });
    }
  }
}
