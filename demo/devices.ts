/**
 * The demo room's hardware: emulated touch panel (Nextion), VISCA camera and speakerphone, each on
 * its own pty in `<state dir>/dev/`, at the paths the demo's settings name, and a laptop on the
 * table. A director can pull a device's cable and plug it back in, and plug the laptop into the
 * room's HDMI capture (docs/kiosk-and-admin-api.md §roomctl demo).
 *
 * The laptop is a stand-in for the HDMI capture dongle's V4L2 node: a file at `paths.laptop` that
 * exists while it is plugged in. The room's device manager looks for that path as it looks for a
 * real dongle's node, so plugging it raises the same `content.plugged` event a real dongle does
 * (docs/hardware.md §Content sharing); what the room then shares is the slide-deck test source.
 * The laptop is what is plugged in or not, so its absence is "no laptop connected", never a fault.
 *
 * The camera plays a Sony EVI-D70 (`DEMO_CAMERA`; docs/hardware.md §Emulator profiles): a
 * meeting-room PTZ camera whose six memories are the panel's six preset buttons, and which reports
 * its model to the version inquiry, so the admin console shows it. Room preset N is its memory N − 1.
 */
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ViscaEmulator, type ViscaEmulatorProfileName } from '../device/camera/emulator.ts';
import { NextionEmulator } from '../device/panel/emulator.ts';
import { createPtyPair, type PtyPair } from '../device/pty.ts';
import { FakeSpeakerphone } from '../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../device/speakerphone/serve.ts';
import { SerialPortByteStream } from '../src/transport/serial/serialport.ts';
import type { ByteStream } from '../src/transport/serial/stream.ts';

/** The demo's emulated devices a director can unplug. */
export type DemoDevice = 'panel' | 'camera' | 'speakerphone' | 'laptop';

/** The devices on a pty line (all but the laptop). */
type LineDevice = Exclude<DemoDevice, 'laptop'>;

const DEVICE_NAME: Record<DemoDevice, string> = {
  panel: 'touch panel',
  camera: 'camera',
  speakerphone: 'speakerphone',
  laptop: 'laptop',
};

const BAUD = 115200;

/** The camera the demo room has. */
export const DEMO_CAMERA: ViscaEmulatorProfileName = 'sony-evi-d70';

/** One plugged-in device: the pty pair and the emulator's end of the line. */
interface Line {
  readonly pty: PtyPair;
  readonly stream: ByteStream;
  /** Stops the emulator serving this line (speakerphone only). */
  readonly stop?: () => void;
}

export class DemoDevices {
  #panel = new NextionEmulator();
  #camera = new ViscaEmulator({ profile: DEMO_CAMERA });
  #speakerphone: FakeSpeakerphone | undefined;
  readonly #lines = new Map<LineDevice, Line>();
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

  /** Whether the laptop is plugged into the room's HDMI capture now. */
  get laptopPlugged(): boolean {
    return this.#paths !== undefined && existsSync(this.#paths.laptop);
  }

  /** Plug the panel, camera and speakerphone in, on ptys in `devDir`; the laptop starts unplugged. */
  async start(devDir: string): Promise<void> {
    this.#paths = {
      panel: path.join(devDir, 'panel'),
      camera: path.join(devDir, 'camera'),
      speakerphone: path.join(devDir, 'speakerphone'),
      laptop: path.join(devDir, 'laptop'),
    };
    await fsp.rm(this.#paths.laptop, { force: true });
    for (const device of ['panel', 'camera', 'speakerphone'] as const) await this.#plug(device);
  }

  async stop(): Promise<void> {
    if (this.#paths !== undefined) await fsp.rm(this.#paths.laptop, { force: true });
    const lines = [...this.#lines.values()];
    this.#lines.clear();
    for (const l of lines) l.stop?.();
    await Promise.all(lines.map((l) => l.stream.close().catch(() => {})));
    await Promise.all(lines.map((l) => l.pty.close().catch(() => {})));
  }

  /** Pull a device's cable: its line disappears from the path the room opens. */
  async unplug(device: DemoDevice): Promise<string> {
    if (device === 'laptop') {
      if (!this.laptopPlugged) return 'The laptop is not plugged in.';
      await fsp.rm(this.paths.laptop, { force: true });
      return 'The laptop is unplugged from the HDMI capture; the room stops sharing its slides.';
    }
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
    if (device === 'laptop') {
      if (this.laptopPlugged) return 'The laptop is plugged in.';
      await fsp.writeFile(this.paths.laptop, 'demo laptop: the slide-deck test source\n');
      return "The laptop is plugged into the room's HDMI capture; the room can share its slides.";
    }
    if (this.#lines.has(device)) return `The ${DEVICE_NAME[device]} is plugged in.`;
    await this.#plug(device, true);
    return `The ${DEVICE_NAME[device]} is plugged in again; the room finds it on its own.`;
  }

  async #plug(device: LineDevice, fresh = false): Promise<void> {
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
      if (fresh) this.#camera = new ViscaEmulator({ profile: DEMO_CAMERA });
      this.#camera.attach(stream);
      this.#lines.set(device, { pty, stream });
    } else {
      const phone = new FakeSpeakerphone('toggle', pty.devicePath);
      this.#speakerphone = phone;
      this.#lines.set(device, { pty, stream, stop: serveSpeakerphone(stream, phone) });
    }
  }
}
