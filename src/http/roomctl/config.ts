/**
 * roomctl's saved connection (docs/kiosk-and-admin-api.md §roomctl): after `roomctl claim` the device
 * URL, its pinned certificate fingerprint and an API token are kept in
 * `$XDG_CONFIG_HOME/roomctl/config.json` (mode 0600), so later commands need no flags. Flags and
 * ROOMCTL_* variables override it.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../core/store.ts';

export interface SavedConnection {
  url?: string;
  fingerprint?: string;
  token?: string;
}

export function defaultConfigPath(env: Record<string, string | undefined>): string {
  const base = env['XDG_CONFIG_HOME'] ?? path.join(env['HOME'] ?? os.homedir(), '.config');
  return path.join(base, 'roomctl', 'config.json');
}

export async function loadConnection(file: string): Promise<SavedConnection> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>;
    const out: SavedConnection = {};
    if (typeof parsed['url'] === 'string') out.url = parsed['url'];
    if (typeof parsed['fingerprint'] === 'string') out.fingerprint = parsed['fingerprint'];
    if (typeof parsed['token'] === 'string') out.token = parsed['token'];
    return out;
  } catch (error) {
    // No saved connection yet, or one that is not JSON: start without one.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return {};
    throw error;
  }
}

export async function saveConnection(file: string, connection: SavedConnection): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
}
