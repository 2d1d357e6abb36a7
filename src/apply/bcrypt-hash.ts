import { randomBytes } from 'node:crypto';
import { bcrypt } from 'hash-wasm';

/** bcrypt reads at most 72 bytes of a password; longer ones are cut there, as Python's bcrypt and bcryptjs do. */
const MAX_PASSWORD_BYTES = 72;

/**
 * A `$2b$` bcrypt hash, as Python's bcrypt (what vantage6 verifies with)
 * writes. WebAssembly (hash-wasm): within a few percent of the native C
 * implementation and portable to wherever Node runs, with no install script.
 * hash-wasm labels its output `$2a$`; for the at most 72 bytes it is given,
 * `$2a$` and `$2b$` are the same computation (`$2b$` only marks the fix for
 * passwords longer than 255 bytes), which test/apply checks with Python's
 * bcrypt on non-ASCII and overlong passwords.
 */
export async function bcryptHash(secret: string, cost: number): Promise<string> {
  const password = new TextEncoder().encode(secret).subarray(0, MAX_PASSWORD_BYTES);
  const hash = await bcrypt({ password, salt: randomBytes(16), costFactor: cost, outputType: 'encoded' });
  return `$2b$${hash.slice(4)}`;
}
