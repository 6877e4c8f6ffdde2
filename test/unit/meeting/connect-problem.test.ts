/**
 * A connection that could not be opened because of the proxy or TLS (src/transport/http-proxy.ts)
 * shows its own sentence where the room shows its relay connection trouble (the meeting's error,
 * on the room screen and the admin status; docs/admin.md §Firewalls), and a join that never got an
 * answer fails with it.
 */
import { describe, expect, it } from 'vitest';
import { SimMeeting } from './machine-harness.ts';

const untrusted = {
  code: 'transport.tls_untrusted' as const,
  message:
    'The certificate of relay.example:443 is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): add its CA …',
};

describe('connection problems while joining', () => {
  it('the reconnecting meeting shows the TLS problem; the join fails with it at the deadline', () => {
    const m = new SimMeeting({ joinAnswerTimeoutMs: 5000 });
    m.join();
    m.feed({ type: 'disconnected', willReconnect: true, error: untrusted });
    expect(m.snapshot.status).toBe('reconnecting');
    expect(m.snapshot.error).toEqual({ code: untrusted.code, message: `${untrusted.message} Reconnecting…` });
    m.advance(5000);
    expect(m.snapshot.status).toBe('failed');
    expect(m.of('reject-join')[0]).toMatchObject(untrusted);
  });

  it('a drop without a cause keeps the plain sentence, and forgets an earlier cause', () => {
    const m = new SimMeeting({ joinAnswerTimeoutMs: 5000 });
    m.join();
    m.feed({ type: 'disconnected', willReconnect: true, error: untrusted });
    m.feed({ type: 'disconnected', willReconnect: true });
    expect(m.snapshot.error?.code).toBe('meeting.relay_unreachable');
    m.advance(5000);
    expect(m.of('reject-join')[0]?.message).toMatch(/did not answer within 5 seconds/);
  });

  it('a later attempt that reached the service clears the cause: a slow admission is not blamed on TLS', () => {
    const m = new SimMeeting({ joinAnswerTimeoutMs: 5000 });
    m.join();
    m.feed({ type: 'disconnected', willReconnect: true, error: untrusted });
    m.feed({ type: 'connected' });
    m.advance(5000);
    expect(m.of('reject-join')[0]?.code).toBe('meeting.relay_unreachable');
  });
});
