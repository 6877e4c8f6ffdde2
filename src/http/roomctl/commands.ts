/**
 * roomctl's commands (docs/kiosk-and-admin-api.md §roomctl): claim, token create/list/revoke,
 * provision, status, health, devices, settings get/set, logs, restart, schedule. Each returns a
 * JSON-able result and a human rendering; the CLI prints one or the other (`--json`).
 */
import * as os from 'node:os';
import { SCOPES, type Scope } from '../admin/auth-state.ts';
import type { AdminClient } from './client.ts';
import { RoomctlError, RoomctlExit } from './exit.ts';

export interface CommandResult {
  json: unknown;
  human: string;
}

const pretty = (v: unknown) => JSON.stringify(v, null, 2);

export async function claim(
  client: AdminClient,
  input: { setupCode: string; password: string; roomName?: string; organisationKey?: string },
): Promise<CommandResult & { token: string }> {
  const res = await client.call('POST', '/api/v1/claim', {
    setupCode: input.setupCode,
    password: input.password,
    tokenName: `roomctl@${os.hostname()}`.slice(0, 64),
    ...(input.roomName === undefined ? {} : { roomName: input.roomName }),
    ...(input.organisationKey === undefined ? {} : { organisationKey: input.organisationKey }),
  });
  const token = (res.json as { token?: string }).token;
  if (token === undefined)
    throw new RoomctlError(RoomctlExit.software, 'The device did not return an API token.');
  return {
    token,
    json: { claimed: true, url: client.url.origin, fingerprint: client.observedFingerprint },
    human: `Claimed ${client.url.origin}${input.roomName === undefined ? '' : ` as "${input.roomName}"`}. An API token was saved for roomctl.`,
  };
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Needs an admin token; a token never gets a scope above the one that makes it. */
export async function tokenCreate(client: AdminClient, name: string, scope: Scope): Promise<CommandResult> {
  const res = await client.call('POST', '/api/v1/tokens', { name, scope });
  const t = res.json as { id: string; name: string; scope: string; createdAt: string; token: string };
  return {
    json: t,
    human: `${t.token}\nToken ${t.id} "${t.name}" (scope ${t.scope}). It is shown only this once.`,
  };
}

export async function tokenList(client: AdminClient): Promise<CommandResult> {
  const res = await client.call('GET', '/api/v1/tokens');
  const list = res.json as { id: string; name: string; scope: string; createdAt: string }[];
  return {
    json: list,
    human: list.map((t) => `${t.id}  ${t.scope.padEnd(8)} ${t.createdAt}  ${t.name}`).join('\n'),
  };
}

export async function tokenRevoke(client: AdminClient, id: string): Promise<CommandResult> {
  await client.call('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
  return { json: { revoked: id }, human: `Revoked token ${id}.` };
}

export async function provision(client: AdminClient, bundle: unknown): Promise<CommandResult> {
  const res = await client.call('POST', '/api/v1/provision', bundle);
  const r = res.json as { serial: number; organisationKey: string };
  return {
    json: r,
    human: `Applied provisioning bundle #${r.serial} (organisation key ${r.organisationKey.slice(0, 16)}…).`,
  };
}

export async function status(client: AdminClient): Promise<CommandResult> {
  const res = await client.call('GET', '/api/v1/status');
  const s = res.json as Record<string, unknown>;
  const lines = Object.entries(s).map(
    ([k, v]) => `${k.padEnd(20)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
  );
  return { json: s, human: lines.join('\n') };
}

export async function health(client: AdminClient): Promise<CommandResult & { healthy: boolean }> {
  const res = await client.call('GET', '/api/v1/health');
  const h = res.json as { status: string; checks: { name: string; ok: boolean; detail?: string }[] };
  const lines = [
    `health: ${h.status}`,
    ...h.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`),
  ];
  return { json: h, human: lines.join('\n'), healthy: h.status === 'ok' };
}

export async function devices(client: AdminClient): Promise<CommandResult> {
  const res = await client.call('GET', '/api/v1/devices');
  const d = (res.json as { devices: { id: string; kind: string; name: string; status: string }[] }).devices;
  return {
    json: d,
    human: d.map((x) => `${x.status.padEnd(9)} ${x.kind.padEnd(14)} ${x.name} (${x.id})`).join('\n'),
  };
}

/** "a.b.c" lookup for `settings get KEY`. */
function pick(value: unknown, key: string): unknown {
  let cur = value;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) {
      throw new RoomctlError(RoomctlExit.failure, `There is no setting "${key}".`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export async function settingsGet(client: AdminClient, key?: string): Promise<CommandResult> {
  const res = await client.call('GET', '/api/v1/settings');
  const value = key === undefined ? res.json : pick(res.json, key);
  return { json: value, human: typeof value === 'string' ? value : pretty(value) };
}

/** `KEY=VALUE` pairs → a nested patch; VALUE is JSON when it parses, else a string. */
export function settingsPatch(assignments: string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new RoomctlError(RoomctlExit.usage, `"${a}" is not KEY=VALUE.`);
    const key = a.slice(0, eq);
    const raw = a.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      value = raw;
    }
    const parts = key.split('.');
    let cur = patch;
    for (const p of parts.slice(0, -1)) {
      const next = cur[p];
      if (next === undefined || typeof next !== 'object' || next === null) cur[p] = {};
      cur = cur[p] as Record<string, unknown>;
    }
    cur[parts[parts.length - 1]!] = value;
  }
  return patch;
}

export async function settingsSet(client: AdminClient, assignments: string[]): Promise<CommandResult> {
  const res = await client.call('PATCH', '/api/v1/settings', settingsPatch(assignments));
  return {
    json: res.json,
    human: `Saved ${assignments.length} setting${assignments.length === 1 ? '' : 's'}.`,
  };
}

export async function logs(client: AdminClient, lines: number): Promise<CommandResult> {
  const res = await client.call('GET', `/api/v1/logs?lines=${lines}`);
  return {
    json: { lines: res.text.split('\n').filter((l) => l !== '') },
    human: res.text.replace(/\n$/, ''),
  };
}

export async function restart(client: AdminClient): Promise<CommandResult> {
  await client.call('POST', '/api/v1/restart');
  return { json: { restarting: true }, human: 'The room device is restarting.' };
}

export async function schedule(
  client: AdminClient,
  input: { title: string; start: string; end: string; encryption: 'e2ee' | 'enhanced'; passcode?: string },
): Promise<CommandResult> {
  const res = await client.call('POST', '/api/v1/schedule', input);
  const id = (res.json as { meetingId: string }).meetingId;
  return {
    json: { meetingId: id, ...input, passcode: undefined },
    human: `Scheduled "${input.title}" (meeting ID ${id}).`,
  };
}
