/**
 * Process entry of the `roomd` binary: runs `main` with the real process and exits with its code.
 */
import { main } from './main.ts';

const code = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
});
process.exitCode = code;
// Anything left open (a stray handle) must not keep a stopped daemon alive.
setTimeout(() => process.exit(code), 2000).unref();
