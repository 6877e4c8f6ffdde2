/**
 * Every fuzz target (fuzz/README.md "Targets"), in the order runs take them.
 */
import type { FuzzTarget } from '../lib/target.ts';
import { bundle } from './bundle.ts';
import { chat } from './chat.ts';
import { control } from './control.ts';
import { downlink } from './downlink.ts';
import { e2eeMessage } from './e2ee-message.ts';
import { hidDescriptor } from './hid-descriptor.ts';
import { identity } from './identity.ts';
import { janus } from './janus.ts';
import { mediaChunk } from './media-chunk.ts';
import { annexb, ivf, oggOpus } from './media-parsers.ts';
import { panel } from './panel.ts';
import { SELF_TESTS } from './selftest.ts';
import { settings } from './settings.ts';
import { sframeHeader } from './sframe-header.ts';
import { signalClient, signalServer } from './signal.ts';
import { videoFeed } from './video-feed.ts';
import { visca } from './visca.ts';

export const TARGETS: readonly FuzzTarget<never>[] = [
  signalClient,
  signalServer,
  janus,
  mediaChunk,
  downlink,
  control,
  chat,
  e2eeMessage,
  identity,
  sframeHeader,
  panel,
  visca,
  hidDescriptor,
  ivf,
  annexb,
  oggOpus,
  videoFeed,
  bundle,
  settings,
] as FuzzTarget<never>[];

/** A target by name; the harness self-tests (selftest.ts) are found too, though runs never list them. */
export function findTarget(name: string): FuzzTarget {
  const t = [...TARGETS, ...SELF_TESTS].find((x) => x.name === name);
  if (t === undefined)
    throw new Error(`no fuzz target "${name}" (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t as unknown as FuzzTarget;
}
