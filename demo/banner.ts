/**
 * What `roomd demo` prints in the terminal: where the room screen and the admin page are, and what
 * to type next (docs/admin.md §In the demo).
 */
import * as path from 'node:path';
import { MIN_PASSWORD_LENGTH } from '../src/http/admin/auth.ts';
import { anchorFragment } from '../web/src/link.ts';
import type { DemoRun } from './run.ts';

/** What the start banner names (all of it known once the demo runs). */
export interface BannerFacts {
  room: string;
  kioskUrl: string;
  adminUrl: string;
  fingerprint: string;
  /** The one-time setup code, or null once the room is claimed. */
  setupCode: string | null;
  meetings: { id: string; title: string; encryption: string }[];
  /** Where a browser joins the E2EE meeting (the relay's web client), null when it serves none. */
  webJoin: { url: string; passcode: string | null; orgKeyFile: string } | null;
  logFile: string | null;
}

export function bannerFacts(run: DemoRun, logFile: string | null): BannerFacts {
  return {
    room: run.app.store.getState().room.name,
    kioskUrl: run.kioskUrl,
    adminUrl: `${run.app.http.urls().admin}/`,
    fingerprint: run.app.http.certificate.fingerprint,
    setupCode: run.app.http.auth.setupCode,
    meetings: run.env.meetings.map((m) => ({ id: m.id, title: m.title, encryption: m.encryption })),
    webJoin: webJoin(run),
    logFile: logFile === null ? null : shortPath(logFile),
  };
}

function webJoin(run: DemoRun): BannerFacts['webJoin'] {
  const e2ee = run.env.meetings.find((m) => m.encryption === 'e2ee');
  if (e2ee === undefined || !run.env.relay.servesWebClient) return null;
  // The link vouches for the demo organization, as an invitation from it would: the browser then
  // verifies the room and the far-end people (web/src/link.ts).
  return {
    url: `${run.env.relay.address.httpUrl}/join/${e2ee.id}#${anchorFragment(run.env.anchor)}`,
    passcode: e2ee.passcode,
    orgKeyFile: shortPath(path.join(run.stateDir, 'demo-org-key.json')),
  };
}

/** A path as short as it is clear: relative to the current directory when it lies below it. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/**
 * The lines `roomd demo` ends with: where the room screen and the admin page are, and exactly what
 * to type next — the claim command with the address the admin server really listens on, its
 * certificate fingerprint and the setup code (until the room is claimed), then the director.
 */
export function startBanner(f: BannerFacts): string[] {
  const e2ee = f.meetings.find((m) => m.encryption === 'e2ee');
  const lines = [
    '',
    `  roomd demo is running: room "${f.room}"`,
    '',
    `  Room screen  ${f.kioskUrl}   open it in a browser: it is what the room's screen shows`,
    `  Admin page   ${f.adminUrl}   the device's own certificate, fingerprint:`,
    `               ${f.fingerprint}`,
    '',
  ];
  if (f.setupCode !== null) {
    lines.push(
      '  Next: claim the room, once. In another terminal, in this directory:',
      '',
      `    npx roomctl claim --url ${f.adminUrl.replace(/\/$/, '')} --fingerprint ${f.fingerprint} --code ${f.setupCode} --password-stdin`,
      '',
      `  then type a new admin password (${MIN_PASSWORD_LENGTH} characters or more), Enter, Ctrl-D.`,
      '  The same password signs in on the admin page.',
    );
  } else {
    lines.push(
      '  The room is claimed: sign in on the admin page with its password (roomctl kept its token).',
    );
  }
  lines.push(
    `  On the room screen, tap Join on ${e2ee === undefined ? 'a meeting' : `"${e2ee.title}"`}; then make the far end act:`,
    '    npx roomctl demo --help',
    '    npx roomctl demo share          (someone shares slides; unshare stops it)',
    '    npx roomctl demo say "Hello"    (someone writes in the chat; whisper: privately)',
    ...(f.webJoin === null
      ? []
      : [
          `  Join it from a browser too: ${f.webJoin.url}${f.webJoin.passcode === null ? '' : `  (passcode ${f.webJoin.passcode})`}`,
          `    its key verified: npx roomctl identity issue --org-key ${f.webJoin.orgKeyFile} --kind person --name "You" --key <the key it shows>`,
        ]),
    '',
    ...f.meetings.map((m) => `  Meeting ${m.id}  ${m.encryption.padEnd(8)}  ${m.title}`),
    f.logFile === null ? '  Stop with Ctrl-C.' : `  Logs: ${f.logFile}    Stop with Ctrl-C.`,
    '',
  );
  return lines;
}

/** Said once when the room gets claimed while the demo runs. */
export function claimedBanner(adminUrl: string): string[] {
  return [
    '',
    `  The room is claimed. Admin page: ${adminUrl}/ (sign in with the password you chose).`,
    '  Tap Join on the room screen, then: npx roomctl demo --help',
    '',
  ];
}
