/**
 * Reading the bundle hash a server publishes in `bundle.json` (docs/protocol.md §Web client), for
 * `bundle-info.tsx`: a total decoder, bounded in size and nesting, that never throws.
 */
import { jsonDeeperThan } from '../../src/protocol/codec.ts';

/** A manifest of a thousand files is ~100 KiB; the relay's is three. */
const MAX_BUNDLE_JSON_CHARS = 256 * 1024;
const HASH = /^[0-9a-f]{64}$/;

export const CHECK_COMMAND = 'node scripts/web-bundle-hash.mjs web/dist';

/** The bundle hash in a `bundle.json` answer, or null when the text is not one. Never throws. */
export function bundleHashOf(text: string): string | null {
  if (text.length > MAX_BUNDLE_JSON_CHARS || jsonDeeperThan(text, 4)) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
  if (typeof value !== 'object' || value === null || !('bundleHash' in value)) return null;
  const hash = value.bundleHash;
  return typeof hash === 'string' && HASH.test(hash) ? hash : null;
}
