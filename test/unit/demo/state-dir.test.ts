/**
 * `roomd demo` keeps its state where `roomd run` would look first: `--state-dir`, then
 * `ROOMD_STATE_DIR`, and only then its own default under the current directory (docs/admin.md).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoStateDir } from '../../../demo/run.ts';

describe('the demo state directory', () => {
  it('is the flag, then ROOMD_STATE_DIR, then .roomd-state/demo here; always absolute', () => {
    const env = { ROOMD_STATE_DIR: '/srv/roomd-demo' };
    expect(demoStateDir('/tmp/flag', env)).toBe('/tmp/flag');
    expect(demoStateDir(undefined, env)).toBe('/srv/roomd-demo');
    expect(demoStateDir(undefined, { ROOMD_STATE_DIR: 'rel/dir' })).toBe(path.resolve('rel/dir'));
    expect(demoStateDir(undefined, {})).toBe(path.resolve('.roomd-state', 'demo'));
  });
});
