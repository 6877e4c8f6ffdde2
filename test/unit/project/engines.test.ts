// One Node decision (docs/decisions/0014-node-20-and-pinned-dependencies.md): every package the
// lockfile installs accepts the oldest Node version package.json's `engines` allows, so `npm ci`
// on it prints no EBADENGINE warning; the README and the .deb name the same version.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
};

describe('the Node version', () => {
  const oldest = semver.minVersion(pkg.engines.node)?.version ?? '';

  it('package.json names one oldest version', () => {
    expect(oldest).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('every locked package accepts it (no EBADENGINE on npm ci)', () => {
    const refusing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      const engines = entry.engines;
      // A few old packages list engines as an array of strings; npm ignores those.
      const range = engines !== undefined && !Array.isArray(engines) ? engines.node : undefined;
      if (where === '' || range === undefined) continue;
      if (!semver.satisfies(oldest, range)) refusing.push(`${where} wants node ${range}`);
    }
    expect(refusing).toEqual([]);
    expect(Object.keys(lock.packages).length).toBeGreaterThan(100);
  });

  it('the README and the package’s Debian control state the same version', () => {
    const [major, minor] = oldest.split('.');
    expect(read('README.md')).toContain(`Node.js ${major}.${minor}`);
    expect(read('scripts/package-deb.sh')).toContain(`nodejs (>= ${major}.${minor})`);
  });
});
