/**
 * Not claimed yet (docs/kiosk-and-admin-api.md §Room screen): what an admin needs to claim this room
 * device — the one-time setup code, device id, the addresses the admin page really answers on, its
 * certificate fingerprint, and the `roomctl claim` command ready to type. Whenever the room is in
 * or joining a meeting the meeting's screen shows instead (screens/choose.ts).
 */
import type { RoomState } from '../api.ts';

export function SetupScreen({ state }: { state: RoomState }) {
  const setup = state.setup;
  const fingerprint = (setup?.certFingerprint ?? state.certFingerprint).split(':');
  const half = Math.ceil(fingerprint.length / 2);
  const url = setup?.adminUrls[0];
  const claim =
    setup === null || setup === undefined || url === undefined
      ? null
      : `${setup.roomctl} claim --url ${url.replace(/\/$/, '')} --fingerprint ${setup.certFingerprint} --code ${setup.setupCode} --password-stdin`;
  return (
    <main class="screen setup" data-testid="screen-setup">
      <h1>Set up this room</h1>
      <p class="lead">
        An administrator claims this device from a laptop on the same network, or with{' '}
        <code>{setup?.roomctl ?? 'roomctl'} claim</code>.
      </p>
      <div class="setup-grid">
        <section class="card setup-code-card">
          <div class="label">Setup code</div>
          <div class="setup-code" data-testid="setup-code">
            {setup?.setupCode ?? '—'}
          </div>
          <div class="hint">Works once. It is replaced after the device is claimed.</div>
        </section>
        <section class="card">
          <div class="label">Admin page</div>
          {(setup?.adminUrls ?? []).map((u) => (
            <div class="mono big-line" key={u}>
              {u}
            </div>
          ))}
          {(setup?.adminUrls.length ?? 0) === 0 && <div class="big-line">No network address yet</div>}
          <div class="label">Device ID</div>
          <div class="mono big-line" data-testid="device-id">
            {setup?.deviceId ?? ''}
          </div>
          <div class="label">Certificate fingerprint (SHA-256)</div>
          <div class="mono fingerprint" data-testid="cert-fingerprint">
            <div>{fingerprint.slice(0, half).join(':')}</div>
            <div>{fingerprint.slice(half).join(':')}</div>
          </div>
          <div class="hint">
            Your browser will warn about this device’s own certificate: check that the fingerprint matches.
          </div>
        </section>
      </div>
      {claim !== null && (
        <section class="card setup-command">
          <div class="label">
            Or from a terminal (then type a new admin password of 10 characters or more and press Ctrl-D)
          </div>
          <div class="mono claim-command" data-testid="claim-command">
            {claim}
          </div>
        </section>
      )}
    </main>
  );
}
