import bcrypt from 'bcrypt';

/**
 * A `$2b$` bcrypt hash, as Python's bcrypt (what vantage6 verifies with)
 * writes, by the native `bcrypt` package: the same speed as C bcrypt, from
 * binaries that ship inside the package (no download, no compiler on the
 * common platforms). The benchmark compares it with WebAssembly (hash-wasm,
 * about 1.1× slower here) and JavaScript (bcryptjs, about 1.6×). Like every
 * bcrypt, it reads at most 72 bytes of a secret.
 */
export function bcryptHash(secret: string, cost: number): string {
  return bcrypt.hashSync(secret, cost);
}
