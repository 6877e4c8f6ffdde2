/**
 * Schema checks for the signaling codec, compiled to JavaScript by TypeBox's TypeCompiler: the
 * fastest check, run on every message the relay receives. The browser build uses
 * schema-check.browser.ts instead, which interprets the same schemas, because a page under a strict
 * Content-Security-Policy may not compile code (docs/decisions/0022-one-core-in-node-and-browser.md).
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ValueError } from '@sinclair/typebox/errors';

/** A compiled check of one schema: whether a value matches, and the first reason it does not. */
export interface SchemaCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { First(): ValueError | undefined };
}

export function compileCheck(schema: TSchema): SchemaCheck {
  return TypeCompiler.Compile(schema);
}
