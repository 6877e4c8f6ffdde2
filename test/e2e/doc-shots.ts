/**
 * Where the browser tests put their screenshots: always test-output/screenshots/; the ones the
 * documentation shows are copied into docs/screenshots/ only by `npm run screenshots`, so an
 * ordinary test run leaves the checkout as it found it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

export const TEST_SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');
const DOC_SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/** Whether this run refreshes the documentation's screenshots (`npm run screenshots`). */
export const UPDATING_DOC_SHOTS = process.env['ROOMD_UPDATE_DOC_SCREENSHOTS'] === '1';

/**
 * Copy screenshots from test-output into docs/screenshots when refreshing them; `replacePrefix`
 * removes the documentation's older shots of that series that this run did not take.
 */
export async function publishDocShots(files: readonly string[], replacePrefix?: string): Promise<void> {
  if (!UPDATING_DOC_SHOTS) return;
  await fsp.mkdir(DOC_SHOTS, { recursive: true });
  if (replacePrefix !== undefined)
    for (const old of await fsp.readdir(DOC_SHOTS))
      if (old.startsWith(replacePrefix) && !files.includes(old)) await fsp.rm(path.join(DOC_SHOTS, old));
  for (const f of files) await fsp.copyFile(path.join(TEST_SHOTS, f), path.join(DOC_SHOTS, f));
}
