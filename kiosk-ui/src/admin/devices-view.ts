/**
 * Devices and health in words and colours, one mapping for every page, so Status, Devices and the
 * health summary never disagree (docs/kiosk-and-admin-api.md §Admin console).
 */
import type { Tone } from './ui.tsx';
import type { DeviceInfo, Health } from './types.ts';

export const KIND_LABEL: Record<string, string> = {
  camera: 'Camera',
  panel: 'Touch panel',
  speakerphone: 'Speakerphone',
  usb: 'USB bus',
  microphone: 'Microphone',
  speaker: 'Speaker',
};

export const kindLabel = (kind: string) => KIND_LABEL[kind] ?? kind.charAt(0).toUpperCase() + kind.slice(1);

export function deviceTone(d: DeviceInfo): Tone {
  // Not set up, or optional equipment that is not there (no laptop): neither is a fault.
  if (d.state === 'not-configured' || d.state === 'absent') return 'idle';
  return d.status === 'ok' ? 'good' : d.status === 'degraded' ? 'warn' : 'bad';
}

export function deviceWords(d: DeviceInfo): string {
  if (d.state === 'not-configured') return 'Not set up';
  if (d.state === 'absent') return d.kind === 'content' ? 'No laptop connected' : 'Not connected';
  if (d.status === 'ok') return 'Working';
  return d.status === 'degraded' ? 'Degraded' : 'Not working';
}

/** The state word of the device manager ("reconnecting"), readable. */
export function stateWords(state: string | undefined): string {
  return state === undefined ? '' : state.replace(/-/g, ' ');
}

const RANK = { ok: 0, degraded: 1, failing: 2 } as const;

/**
 * The room's health as the console shows it: the server's summary, never better than what the
 * devices list says (a device that is not working makes the room at least degraded).
 */
export function overallHealth(health: Health, devices: DeviceInfo[]): Health['status'] {
  const fromDevices = devices.some((d) => d.state !== 'not-configured' && d.status !== 'ok')
    ? 'degraded'
    : 'ok';
  return RANK[fromDevices] > RANK[health.status] ? fromDevices : health.status;
}

export const healthTone = (s: Health['status']): Tone =>
  s === 'ok' ? 'good' : s === 'degraded' ? 'warn' : 'bad';

export const HEALTH_WORDS: Record<Health['status'], string> = {
  ok: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
};

/** "device:usb" → "USB bus", "meeting-service" → "Meeting service". */
export function checkLabel(name: string): string {
  if (name.startsWith('device:')) return kindLabel(name.slice(7));
  const s = name.replace(/-/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
