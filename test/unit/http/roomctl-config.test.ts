/**
 * roomctl's saved connection: a missing or non-JSON file means "none saved yet"; any other read
 * failure is reported, not silently treated as no connection.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConnection, saveConnection } from '../../../src/http/roomctl/config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'roomctl-config-'));
  dirs.push(d);
  return d;
}

describe('loadConnection', () => {
  it('reads back what was saved, keeping only the known string fields', async () => {
    const file = join(tmp(), 'roomctl.json');
    await saveConnection(file, { url: 'https://room:8443', fingerprint: 'AB:CD' });
    expect(await loadConnection(file)).toEqual({ url: 'https://room:8443', fingerprint: 'AB:CD' });
  });

  it('a missing file or one that is not JSON is no saved connection', async () => {
    const d = tmp();
    expect(await loadConnection(join(d, 'absent.json'))).toEqual({});
    writeFileSync(join(d, 'bad.json'), '{"url": ');
    expect(await loadConnection(join(d, 'bad.json'))).toEqual({});
  });

  it('a path that cannot be read as a file is an error, not an empty connection', async () => {
    const d = tmp();
    mkdirSync(join(d, 'dir.json'));
    await expect(loadConnection(join(d, 'dir.json'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
