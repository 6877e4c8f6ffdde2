/**
 * The appliance's systemd units, udev rules and sysusers/tmpfiles configuration
 * (docs/admin.md §The units, §Devices and udev):
 * `systemd-analyze verify` finds nothing in the units, udev parses the rules without complaint,
 * and sysusers/tmpfiles create the users, groups and state directories in a scratch root.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { passwdEntry, REPO, run, scratchDir, verifyRoot, verifyUnits } from './helpers.ts';

const UNITS = ['roomd.service', 'roomd-kiosk.service'];
const unit = (name: string) => readFileSync(path.join(REPO, 'systemd', name), 'utf8');
/** key=value lines of a unit, continuation lines joined. */
function directives(text: string): [string, string][] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)] as [string, string];
    });
}
const values = (text: string, key: string) =>
  directives(text)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function scratch(prefix: string): string {
  const d = scratchDir(prefix);
  dirs.push(d);
  return d;
}

describe('systemd units', () => {
  it('pass systemd-analyze verify with no findings', () => {
    const root = scratch('verify');
    verifyRoot(root, ['/usr/bin/node', '/usr/bin/cage']);
    mkdirSync(path.join(root, 'lib/systemd/system'), { recursive: true });
    for (const u of UNITS)
      copyFileSync(path.join(REPO, 'systemd', u), path.join(root, 'lib/systemd/system', u));
    const r = verifyUnits(root, UNITS);
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('the verify check catches a broken unit (the harness itself works)', () => {
    const root = scratch('verify-bad');
    verifyRoot(root, ['/usr/bin/node']);
    mkdirSync(path.join(root, 'lib/systemd/system'), { recursive: true });
    writeFileSync(
      path.join(root, 'lib/systemd/system/roomd.service'),
      unit('roomd.service').replace('WatchdogSec=30s', 'WatchdogSec=soon\nWatchDogSec=30s'),
    );
    const r = verifyUnits(root, ['roomd.service']);
    expect(r.stderr).toMatch(/Failed to parse sec value/);
    expect(r.stderr).toMatch(/Unknown key (name )?'WatchDogSec'/);
  });

  it('roomd.service is a notify service with watchdog, restart limits, a sandbox and device classes', () => {
    const text = unit('roomd.service');
    const one = (k: string) => values(text, k).at(-1);
    expect(one('Type')).toBe('notify');
    // The notifications come from a child process (socat / systemd-notify), not the main PID.
    expect(one('NotifyAccess')).toBe('all');
    expect(one('WatchdogSec')).toMatch(/^\d+s$/);
    expect(one('Restart')).toBe('always');
    expect(Number(one('StartLimitBurst'))).toBeGreaterThan(1);
    expect(one('User')).toBe('roomd');
    expect(one('StateDirectory')).toBe('roomd');
    expect(values(text, 'Environment')).toContain('ROOMD_STATE_DIR=/var/lib/roomd');
    expect(one('SupplementaryGroups')?.split(/\s+/).sort()).toEqual(['audio', 'dialout', 'plugdev', 'video']);
    expect(one('DevicePolicy')).toBe('closed');
    expect(
      values(text, 'DeviceAllow')
        .map((v) => v.split(/\s+/)[0])
        .sort(),
    ).toEqual(
      [
        'char-alsa',
        'char-hidraw',
        'char-ttyACM',
        'char-ttyUSB',
        'char-usb_device',
        'char-video4linux',
      ].sort(),
    );
    for (const [k, v] of [
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['SystemCallFilter', '@system-service'],
    ]) {
      expect(one(k!), k).toBe(v);
    }
    expect(one('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual([
      'AF_INET',
      'AF_INET6',
      'AF_NETLINK',
      'AF_UNIX',
    ]);
    // V8's JIT needs pages that are writable and executable.
    expect(values(text, 'MemoryDenyWriteExecute')).toEqual([]);
    expect(one('ExecStart')).toBe('/usr/bin/node /opt/roomd/bin/roomd.js run');
  });

  it('roomd-kiosk.service runs Chromium in kiosk mode under cage on tty1 without phoning home', () => {
    const text = unit('roomd-kiosk.service');
    const exec = values(text, 'ExecStart')[0] ?? '';
    expect(exec).toMatch(/^\/usr\/bin\/cage .*-- \/usr\/bin\/chromium /);
    for (const flag of [
      '--kiosk',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-breakpad',
      '--no-pings',
    ]) {
      expect(exec.split(/\s+/), flag).toContain(flag);
    }
    const features = exec.match(/--disable-features=(\S+)/)?.[1]?.split(',') ?? [];
    expect(features).toEqual(expect.arrayContaining(['Translate', 'MediaRouter']));
    expect(exec).toMatch(/\$\{ROOMD_KIOSK_URL\}$/);
    expect(values(text, 'Environment')).toContain('ROOMD_KIOSK_URL=http://127.0.0.1:8080/');
    expect(values(text, 'Restart')).toEqual(['always']);
    expect(values(text, 'User')).toEqual(['roomd-kiosk']);
    expect(values(text, 'TTYPath')).toEqual(['/dev/tty1']);
    expect(values(text, 'Conflicts')).toEqual(['getty@tty1.service']);
    expect(values(text, 'After')[0]).toContain('roomd.service');
  });
});

describe('udev rules', () => {
  it('parse without complaint (udevadm test in a private mount namespace)', () => {
    // udevadm test loads every rules file and applies them to one device; it would write links
    // under /dev and /run/udev, so both are private tmpfs mounts here.
    const rulesDir = scratch('udev');
    copyFileSync(path.join(REPO, 'systemd/99-roomd.rules'), path.join(rulesDir, '99-roomd.rules'));
    copyFileSync(
      path.join(REPO, 'systemd/98-roomd-local.rules'),
      path.join(rulesDir, '98-roomd-local.rules'),
    );
    const script = `mount -t tmpfs none /run && mount -t tmpfs none /dev && mount --bind '${rulesDir}' /etc/udev/rules.d && udevadm test /sys/class/tty/tty0`;
    const r = run('unshare', ['-m', 'sh', '-c', script]);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Reading rules file: /etc/udev/rules.d/99-roomd.rules');
    expect(out).toContain('Reading rules file: /etc/udev/rules.d/98-roomd-local.rules');
    const complaints = out.split('\n').filter((l) => /roomd[^:]*\.rules:\d+/.test(l) && !/^tty0:/.test(l));
    expect(complaints).toEqual([]);
    expect(r.status).toBe(0);
  });

  it('cover every speakerphone of the device catalogue, by vendor or by product', () => {
    const text = readFileSync(path.join(REPO, 'systemd/99-roomd.rules'), 'utf8');
    const speakerRules = text
      .split('\n')
      .filter((l) => l.startsWith('SUBSYSTEM=="hidraw"') && l.includes('ENV{ROOMD_ROLE}="speakerphone"'))
      .map((l) => ({
        vendors: l.match(/ATTRS\{idVendor\}=="([^"]+)"/)?.[1]?.split('|') ?? [],
        products: l.match(/ATTRS\{idProduct\}=="([^"]+)"/)?.[1]?.split('|') ?? null,
      }));
    const catalogue = JSON.parse(readFileSync(path.join(REPO, 'device/catalogue.json'), 'utf8')) as {
      devices: { vendorId: string; productId: string; driver: string; name: string }[];
    };
    const phones = catalogue.devices.filter((d) => d.driver === 'hid-speakerphone');
    expect(phones.length).toBeGreaterThan(0);
    for (const d of phones) {
      const covered = speakerRules.some(
        (r) =>
          r.vendors.includes(d.vendorId.toLowerCase()) &&
          (r.products === null || r.products.includes(d.productId.toLowerCase())),
      );
      expect(covered, `${d.name} ${d.vendorId}:${d.productId}`).toBe(true);
    }
  });

  it('hand the room devices to the service groups and name them under /dev/roomd', () => {
    const text = readFileSync(path.join(REPO, 'systemd/99-roomd.rules'), 'utf8');
    const rules = text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const rule = (re: RegExp) => rules.filter((l) => re.test(l));
    expect(rule(/KERNEL=="ttyUSB\[0-9\]\*\|ttyACM\[0-9\]\*".*GROUP="dialout"/)).toHaveLength(1);
    expect(rule(/SUBSYSTEM=="video4linux".*GROUP="video"/)).toHaveLength(1);
    expect(rule(/SUBSYSTEM=="sound".*GROUP="audio"/)).toHaveLength(1);
    expect(rule(/SUBSYSTEM=="hidraw".*GROUP="plugdev".*SYMLINK\+="roomd\/speakerphone-hid"/)).toHaveLength(1);
    expect(rule(/SYMLINK\+="roomd\/\$env\{ROOMD_ROLE\}"/).length).toBeGreaterThanOrEqual(2);
  });
});

describe('sysusers and tmpfiles', () => {
  it('create the users, their device groups and the state directories in a scratch root', () => {
    const root = scratch('sysusers');
    mkdirSync(path.join(root, 'etc'));
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) writeFileSync(path.join(root, 'etc', f), '');
    const conf = path.join(REPO, 'systemd/roomd.sysusers.conf');
    let r = run('systemd-sysusers', [`--root=${root}`, conf]);
    expect(r.status, r.stderr).toBe(0);
    const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    const group = readFileSync(path.join(root, 'etc/group'), 'utf8');
    const roomd = passwdEntry(passwd, 'roomd');
    expect(roomd?.[5]).toBe('/var/lib/roomd');
    expect(roomd?.[6]).toBe('/usr/sbin/nologin');
    expect(passwdEntry(passwd, 'roomd-kiosk')).toBeDefined();
    for (const g of ['video', 'audio', 'dialout', 'plugdev']) {
      expect(passwdEntry(group, g)?.[3]?.split(','), g).toContain('roomd');
    }
    // Running it again changes nothing.
    r = run('systemd-sysusers', [`--root=${root}`, conf]);
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe(passwd);

    mkdirSync(path.join(root, 'usr/lib/tmpfiles.d'), { recursive: true });
    copyFileSync(
      path.join(REPO, 'systemd/roomd.tmpfiles.conf'),
      path.join(root, 'usr/lib/tmpfiles.d/roomd.conf'),
    );
    r = run('systemd-tmpfiles', [`--root=${root}`, '--create', 'roomd.conf']);
    expect(r.status, r.stderr).toBe(0);
    const st = statSync(path.join(root, 'var/lib/roomd'));
    expect(st.mode & 0o777).toBe(0o750);
    expect(st.uid).toBe(Number(roomd?.[2]));
  });
});
