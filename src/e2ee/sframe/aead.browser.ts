/**
 * Browser twin of aead.ts (docs/decisions/0022-one-core-in-node-and-browser.md): no node:crypto, so
 * the default AEAD is the pure one on @noble/ciphers. WebCrypto's AES-GCM is asynchronous and does not
 * fit the synchronous seal/open of PreparedAead.
 */
import { nobleAead, type PreparedAead, type SFrameAead } from './aead-noble.ts';

export { nobleAead, type PreparedAead, type SFrameAead };

/** The AEAD frame keys use unless told otherwise. */
export const defaultAead: SFrameAead = nobleAead;
