/**
 * The device catalogue (docs/hardware.md §Supported devices), which maps ids to drivers:
 * `device/catalogue.json` maps USB vendor/product ids to a driver, capabilities and notes. The
 * app passes the parsed file in (src never imports device/); `parseCatalogue` validates it.
 */
import { readFile } from 'node:fs/promises';
import { RoomdError } from '../../core/errors.ts';

export type DriverKind = 'uvc-camera' | 'visca-camera' | 'hid-speakerphone' | 'hdmi-capture' | 'usb-serial';
export type Capability = 'video' | 'ptz' | 'audio-in' | 'audio-out' | 'hid-mute' | 'hid-hook' | 'serial';

export interface CatalogueEntry {
  readonly vendorId: number;
  readonly productId: number;
  readonly name: string;
  readonly driver: DriverKind;
  readonly capabilities: readonly Capability[];
  readonly notes: string;
}

export interface Catalogue {
  readonly entries: readonly CatalogueEntry[];
  lookup(vendorId: number, productId: number): CatalogueEntry | null;
}

const DRIVERS = new Set<string>([
  'uvc-camera',
  'visca-camera',
  'hid-speakerphone',
  'hdmi-capture',
  'usb-serial',
]);
const CAPS = new Set<string>(['video', 'ptz', 'audio-in', 'audio-out', 'hid-mute', 'hid-hook', 'serial']);

function invalid(message: string, index: number): RoomdError {
  return new RoomdError('config.invalid', { message: `Device catalogue: ${message}.`, context: { index } });
}

function hexId(v: unknown, what: string, i: number): number {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{4}$/.test(v)) throw invalid(`${what} must be 4 hex digits`, i);
  return Number.parseInt(v, 16);
}

export function parseCatalogue(json: unknown): Catalogue {
  const devices = (json as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(devices)) throw invalid('"devices" must be a list', -1);
  const entries = devices.map((d: Record<string, unknown>, i): CatalogueEntry => {
    if (typeof d !== 'object' || d === null) throw invalid('entry must be an object', i);
    if (typeof d.name !== 'string' || d.name === '') throw invalid('name is required', i);
    if (typeof d.driver !== 'string' || !DRIVERS.has(d.driver))
      throw invalid(`unknown driver ${String(d.driver)}`, i);
    const caps = d.capabilities;
    if (!Array.isArray(caps) || !caps.every((c) => typeof c === 'string' && CAPS.has(c))) {
      throw invalid('capabilities must be known names', i);
    }
    return {
      vendorId: hexId(d.vendorId, 'vendorId', i),
      productId: hexId(d.productId, 'productId', i),
      name: d.name,
      driver: d.driver as DriverKind,
      capabilities: caps as Capability[],
      notes: typeof d.notes === 'string' ? d.notes : '',
    };
  });
  const byId = new Map(entries.map((e) => [(e.vendorId << 16) | e.productId, e]));
  if (byId.size !== entries.length) throw invalid('duplicate vendor/product id', -1);
  return { entries, lookup: (v, p) => byId.get(((v & 0xffff) << 16) | (p & 0xffff)) ?? null };
}

/** Default location: `device/catalogue.json` in the installed tree. */
export function defaultCataloguePath(): string {
  return new URL('../../../device/catalogue.json', import.meta.url).pathname;
}

export async function loadCatalogue(path = defaultCataloguePath()): Promise<Catalogue> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new RoomdError('core.store_io', {
      message: 'The device catalogue could not be read.',
      context: { path },
      cause,
    });
  }
  try {
    return parseCatalogue(JSON.parse(text));
  } catch (e) {
    if (e instanceof RoomdError) throw e;
    throw new RoomdError('config.invalid', {
      message: 'The device catalogue is not valid JSON.',
      context: { path },
      cause: e,
    });
  }
}
