/**
 * The shield (docs/protocol.md "Shield (fail-closed)"): one pure function from protocol state to
 * 'e2ee' | 'enhanced' | 'partial' | 'verifying' | 'none'. Anything not proven secure is not 'e2ee'.
 */
import type { Shield } from '../protocol/vocabulary.ts';
import type { ShieldInput } from './types.ts';

export function shieldState(s: ShieldInput): Shield {
  if (s.left || s.mode === 'none') return 'none';
  if (s.mode === 'enhanced') return s.holdsCurrentKey && s.alarms === 0 ? 'enhanced' : 'verifying';
  if (s.mode !== 'e2ee') return 'none';
  if (s.alarms > 0 || s.rosterMismatch === 'persistent') return 'partial';
  if (
    !s.leaderVerified ||
    s.heartbeatAgeMs === null ||
    !(s.heartbeatAgeMs >= 0 && s.heartbeatAgeMs <= s.heartbeatTimeoutMs) ||
    !s.holdsCurrentKey ||
    !s.selfInRoster ||
    s.rosterMismatch !== 'none'
  ) {
    return 'verifying';
  }
  if (!s.allCapable || s.unverifiedKeyed === true) return 'partial';
  return 'e2ee';
}
