import { randomInt } from 'node:crypto';
import fc from 'fast-check';

/** The seed every property test starts from in `npm test` and CI: the same cases every run. */
export const FIXED_SEED = 20261129;

/** Set by `npm run fuzz`: seconds each property explores from a new seed instead of the fixed cases. */
const fuzzSeconds = Number(process.env.FEDCTL_FUZZ_SECONDS ?? '');

/**
 * The parameters of a property test: `numRuns` cases from the fixed seed, so
 * that a red run is never luck; under `npm run fuzz`, as many cases as the
 * time budget allows from a random seed (fast-check names the seed and the
 * counterexample of a failure; keep each as a named case in the test file).
 */
export function propertyRuns<T>(numRuns: number): fc.Parameters<T> {
  if (!(fuzzSeconds > 0)) return { numRuns, seed: FIXED_SEED };
  return { numRuns: Number.MAX_SAFE_INTEGER, seed: randomInt(2 ** 31), plugins: [fc.interruptAfterTimeLimit(fuzzSeconds * 1000)] };
}
