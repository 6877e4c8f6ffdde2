/** Headless Debian Chromium for the end-to-end tests, with the flags that keep it off the network. */
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(
  userDataDir: string,
  options: { ignoreHTTPSErrors?: boolean } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
    viewport: { width: 1920, height: 1080 },
    ...options,
  });
}
