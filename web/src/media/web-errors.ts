/**
 * What the browser's media APIs (WebRTC, WebCodecs, Streams, Web Audio) throw or reject with when
 * they refuse a call — a description, a candidate, a configuration, a closed object: DOMExceptions
 * (InvalidStateError, OperationError, NotSupportedError, …) and TypeErrors for malformed arguments.
 * Those are expected from input a peer or the relay chose; anything else is a bug and surfaces.
 */
export function isWebRefusal(error: unknown): boolean {
  return error instanceof DOMException || error instanceof TypeError;
}

/** For `.catch(…)` of a call whose refusal needs no more than being let go. */
export function ignoreRefusal(error: unknown): void {
  if (!isWebRefusal(error)) throw error;
}
