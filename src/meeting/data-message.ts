/**
 * Messages of the `data` stream (docs/protocol.md "# Control frames", "# Chat"): UTF-8 JSON objects
 * with `"v": 1` and a `type`, at most MAX_DATA_MESSAGE_BYTES. One total decoder for all of them;
 * the control and chat channels check the fields of their own types.
 */

/** The largest data message; its frame stays well inside the receiver's `data` caps. */
export const MAX_DATA_MESSAGE_BYTES = 4096;

export type DataMessage = Readonly<Record<string, unknown>> & { readonly type: string };

/** The message in an opened `data` frame, or null for anything that is not one. */
export function parseDataMessage(bytes: Uint8Array): DataMessage | null {
  if (bytes.byteLength > MAX_DATA_MESSAGE_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    // Not UTF-8 (TypeError from the fatal decoder) or not JSON (SyntaxError): not a data message.
    if (err instanceof SyntaxError || err instanceof TypeError) return null;
    throw err;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (o['v'] !== 1 || typeof o['type'] !== 'string') return null;
  return o as DataMessage;
}

export function encodeDataMessage(message: Record<string, unknown> & { type: string }): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, ...message }));
}

/** A sequence number: a safe, non-negative integer. */
export function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
