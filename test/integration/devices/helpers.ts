/** Shared helpers for the device integration tests: temp dirs, polling, and a RoomCommands spy. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import type { PtzCommand } from '../../../src/protocol/room-commands.ts';
import type { Reaction } from '../../../src/protocol/vocabulary.ts';

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'roomd-dev-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Poll until `check` passes (it may throw while not yet true); fails after `ms`. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() - start > ms) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function spyCommands() {
  return {
    join: vi.fn(async (_id: string, _passcode?: string) => {}),
    leave: vi.fn(async () => {}),
    setMute: vi.fn(async (_m: boolean) => {}),
    setCamera: vi.fn(async (_on: boolean) => {}),
    setVolume: vi.fn(async (_v: number) => {}),
    ptz: vi.fn(async (_c: PtzCommand) => {}),
    react: vi.fn(async (_r: Reaction) => {}),
    chat: vi.fn(async (_text: string, _to?: string) => {}),
    share: vi.fn(async (_on: boolean) => {}),
    acknowledgeSecurityCode: vi.fn(async () => {}),
  };
}
