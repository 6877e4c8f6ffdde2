/**
 * Browser twin of schema-check.ts (docs/decisions/0022-one-core-in-node-and-browser.md): the same
 * schemas, checked by TypeBox's interpreter, since a page under a strict Content-Security-Policy
 * (no 'unsafe-eval') cannot run the code TypeCompiler generates.
 */
import type { TSchema } from '@sinclair/typebox';
import type { ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';

export interface SchemaCheck {
  Check(value: unknown): boolean;
  Errors(value: unknown): { First(): ValueError | undefined };
}

export function compileCheck(schema: TSchema): SchemaCheck {
  return {
    Check: (value) => Value.Check(schema, value),
    Errors: (value) => Value.Errors(schema, value),
  };
}
