/**
 * Rate adaptation's reports on both media planes (docs/protocol.md §Uplink reports, "# Receive
 * reports"): a sender with rate adaptation on hears what of its frames arrived — from the relay on
 * the embedded plane, from its receivers' `rx` messages on the Janus plane — matches every entry with
 * a frame it sent, and on an idle loopback sees no queue and keeps its configured bitrate.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  allSecure,
  type Harness,
  PLANES,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(stopSharedJanus);

describe.each(PLANES)('uplink reports (%s plane)', (plane) => {
  it('reach the sender, match frames it sent, and leave an idle link at the configured rate', async () => {
    h = await startHarness({ plane });
    const id = await h.meeting();
    const sender = h.participant(id, 'Host', {
      identity: h.host,
      client: 'room',
      rate: { maxKbps: 1200 },
      videoFps: 15,
      videoFrameBytes: 4000,
    });
    const receivers = [h.participant(id, 'A'), h.participant(id, 'B')];
    const people = [sender, ...receivers];
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'three secure', 30_000);
    const rate = () => sender.media.rate!;
    await waitFor(() => rate().counters.reports >= 20, 'twenty reports at the sender', 30_000);
    expect(rate().counters.entriesIgnored).toBe(0);
    expect(rate().estimate.deliveredKbps).not.toBeNull();
    expect(rate().estimate.targetKbps).toBe(1200);
    expect(rate().counters.decreases).toBe(0);
    // The receivers themselves have no rate adaptation: they report, and drop nothing they hear.
    for (const r of receivers) expect(r.media.rate).toBeUndefined();
  });
});
