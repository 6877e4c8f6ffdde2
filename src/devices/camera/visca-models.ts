/**
 * VISCA model profiles (docs/hardware.md §Conformance): which command layout a camera speaks and
 * how the room's preset numbers map onto its memory numbers, chosen from the CAM_VersionInq answer
 * (`y0 50 GG GG HH HH JJ JJ KK FF`: vendor, model) or forced by the `viscaModel` setting.
 *
 * Preset numbers in roomd are the numbers people see: "Preset 1" on the panel. Sony numbers its
 * memories from 0 ("Memory Number (=0 to 5), corresponds to 1 to 6 on the Remote Commander",
 * EVI-D80/D90 Technical Manual, Command List 3/3), so on a Sony profile preset N is memory N − 1.
 * A Sony camera (by vendor ID) whose model roomd does not know gets the Sony numbering and the
 * EVI-class layout (`SONY_DEFAULT`); cameras of other makers keep the memory number as the preset
 * number (the convention of the VISCA clones whose own menus show "preset 0").
 */
import { RoomdError } from '../../core/errors.ts';
import {
  LAYOUT_BRC,
  LAYOUT_EVI,
  LAYOUT_SRG_X,
  type PanTiltLayout,
  type ViscaVersion,
} from './visca-codec.ts';

/** The `devices.camera.viscaModel` setting: a family, or `auto` to ask the camera. */
export const VISCA_MODEL_SETTINGS = ['auto', 'generic', 'sony-evi', 'sony-brc', 'sony-srg-x'] as const;
export type ViscaModelSetting = (typeof VISCA_MODEL_SETTINGS)[number];
export type ViscaFamily = Exclude<ViscaModelSetting, 'auto'>;

export interface ViscaProfile {
  readonly family: ViscaFamily;
  readonly layout: PanTiltLayout;
  /** The room preset that is memory 0: 1 on Sony cameras, 0 (memory = preset) otherwise. */
  readonly presetBase: 0 | 1;
  /** Highest memory number the camera stores (VISCA allows up to 0x7F). */
  readonly maxMemory: number;
}

/** What roomd knows about the camera on the line, for the device status. */
export interface ViscaModelInfo {
  readonly family: ViscaFamily;
  /** Model name when the camera identified itself as a model roomd knows, else null. */
  readonly name: string | null;
  readonly vendorId: number | null;
  readonly modelId: number | null;
  readonly rom: number | null;
  /** `detected` from CAM_VersionInq, `configured` by the setting, `default` before or without an answer. */
  readonly source: 'detected' | 'configured' | 'default';
}

const PROFILES: Record<ViscaFamily, ViscaProfile> = {
  generic: { family: 'generic', layout: LAYOUT_EVI, presetBase: 0, maxMemory: 0x7f },
  'sony-evi': { family: 'sony-evi', layout: LAYOUT_EVI, presetBase: 1, maxMemory: 0x7f },
  'sony-brc': { family: 'sony-brc', layout: LAYOUT_BRC, presetBase: 1, maxMemory: 0x7f },
  'sony-srg-x': { family: 'sony-srg-x', layout: LAYOUT_SRG_X, presetBase: 1, maxMemory: 0x7f },
};

/** Sony answers vendor 0x0020 on EVI-D70/FCB/BRC-300 and 0x0001 on EVI-D80/D90, BRC-H700, SRG. */
export const SONY_VENDORS: readonly number[] = [0x0001, 0x0020];

/**
 * The family of a Sony camera whose model ID is not in `KNOWN`: every Sony manual numbers memories
 * from 0, and the `VV WW` 4+4 layout is the one most Sony models document (docs/hardware.md
 * §Conformance).
 */
export const SONY_DEFAULT: ViscaFamily = 'sony-evi';

interface KnownModel {
  readonly name: string;
  readonly family: ViscaFamily;
  readonly maxMemory?: number;
}

/**
 * Model IDs from each model's CAM_VersionInq table: EVI-D70 Technical Manual (VISCA Device Setting
 * Command), EVI-D80/D90 Technical Manual p. 24, SRG-300H Technical Manual (VISCA interface and
 * inquiry), BRC-Z700 Command List p. 6 (0501 BRC-H700, 0502 BRU-H700, 0505 BRC-Z700), BRC-H900
 * Command List p. 6 (adds 0507 BRC-Z330, 050B BRC-H900), FCB-EV7500 Technical Manual. The
 * BRU-H700 (the BRC-H700's optical multiplex unit) is assumed to take the BRC-H700's layout; the
 * BRC-Z330 and BRC-H900 pan/tilt pages were not checked, so they keep the Sony default.
 */
const KNOWN: ReadonlyMap<number, KnownModel> = new Map([
  [0x040e, { name: 'EVI-D70', family: 'sony-evi', maxMemory: 5 }],
  [0x0402, { name: 'EVI-D30/D31 (or EVI-D70 in D30 mode)', family: 'sony-evi', maxMemory: 5 }],
  [0x050c, { name: 'EVI-D80', family: 'sony-evi', maxMemory: 5 }],
  [0x050d, { name: 'EVI-D90', family: 'sony-evi', maxMemory: 5 }],
  [0x0513, { name: 'SRG-300H', family: 'sony-evi' }],
  [0x0467, { name: 'FCB-EV7500', family: 'sony-evi' }],
  [0x0501, { name: 'BRC-H700', family: 'sony-brc' }],
  [0x0502, { name: 'BRU-H700', family: 'sony-brc' }],
  [0x0505, { name: 'BRC-Z700', family: 'sony-brc' }],
  [0x0507, { name: 'BRC-Z330', family: SONY_DEFAULT }],
  [0x050b, { name: 'BRC-H900', family: SONY_DEFAULT }],
]);

export function profileOf(family: ViscaFamily, maxMemory?: number): ViscaProfile {
  const p = PROFILES[family];
  return maxMemory === undefined ? p : { ...p, maxMemory };
}

/** The profile and status for a CAM_VersionInq answer (or none: the camera did not answer it). */
export function identify(version: ViscaVersion | null): { profile: ViscaProfile; info: ViscaModelInfo } {
  const sony = version !== null && SONY_VENDORS.includes(version.vendor);
  const known = sony ? KNOWN.get(version.model) : undefined;
  const family = known?.family ?? (sony ? SONY_DEFAULT : 'generic');
  return {
    profile: profileOf(family, known?.maxMemory),
    info: {
      family,
      name: known?.name ?? null,
      vendorId: version?.vendor ?? null,
      modelId: version?.model ?? null,
      rom: version?.rom ?? null,
      source: version === null ? 'default' : 'detected',
    },
  };
}

export function configuredModel(family: ViscaFamily): { profile: ViscaProfile; info: ViscaModelInfo } {
  return {
    profile: profileOf(family),
    info: { family, name: null, vendorId: null, modelId: null, rom: null, source: 'configured' },
  };
}

/** Room preset → the camera's memory number, or `core.invalid_argument` when it has no such memory. */
export function presetMemory(profile: ViscaProfile, preset: number): number {
  const memory = preset - profile.presetBase;
  if (!Number.isInteger(preset) || memory < 0 || memory > profile.maxMemory) {
    const lo = profile.presetBase;
    throw new RoomdError('core.invalid_argument', {
      message: `Camera preset must be an integer from ${lo} to ${lo + profile.maxMemory} on this camera.`,
      context: { device: 'camera', preset, family: profile.family },
    });
  }
  return memory;
}
