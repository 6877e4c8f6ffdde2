/**
 * The regression corpus (fuzz/README.md "The corpus"): `fuzz/corpus/<target>/` holds inputs every
 * run replays before fuzzing. A `.json` file is `{ "target", "note", "input" }` with the input in
 * the encoding of serial.ts; a `.bin` file is raw bytes the target turns into an input
 * (`fromBytes`), for dropping in real captures. New failures are written as `<short-hash>.json`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromJson, type Json, toJson } from './serial.ts';
import type { FuzzTarget } from './target.ts';

export const CORPUS_DIR = new URL('../corpus/', import.meta.url).pathname;

export interface CorpusEntry {
  /** Path relative to the repository root, for reports. */
  readonly file: string;
  readonly input: unknown;
}

export function corpusDir(target: string, root = CORPUS_DIR): string {
  return path.join(root, target);
}

function relative(file: string): string {
  return path.relative(path.join(CORPUS_DIR, '../..'), file);
}

/** The corpus of one target, in file-name order; a damaged `.json` file is an error (fix or delete it). */
export function loadCorpus(target: FuzzTarget, root = CORPUS_DIR): CorpusEntry[] {
  const dir = corpusDir(target.name, root);
  if (!existsSync(dir)) return [];
  const out: CorpusEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('.bin')) {
      out.push({ file: relative(file), input: target.fromBytes(new Uint8Array(readFileSync(file))) });
    } else if (name.endsWith('.json')) {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { input?: Json };
      if (!('input' in doc)) throw new Error(`${relative(file)} has no "input"`);
      out.push({ file: relative(file), input: fromJson(doc.input) });
    }
  }
  return out;
}

export function entryText(target: string, note: string, input: unknown): { hash: string; text: string } {
  const body = JSON.stringify(toJson(input));
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return {
    hash,
    text: `{"target":${JSON.stringify(target)},"note":${JSON.stringify(note)},"input":${body}}\n`,
  };
}

/** Write an input to a target's corpus; returns the file (relative) — the same input, the same file. */
export function saveToCorpus(target: string, note: string, input: unknown, root = CORPUS_DIR): string {
  const { hash, text } = entryText(target, note, input);
  const dir = corpusDir(target, root);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${hash}.json`);
  if (!existsSync(file)) writeFileSync(file, text);
  return relative(file);
}
