/**
 * `npm run fuzz [-- --seconds N] [FILE...]`: run the property tests from new
 * random seeds for a time budget each, instead of `npm test`'s fixed cases.
 * By hand, in the benchmark's spirit; never in CI. A failure prints the seed
 * and the counterexample: add the counterexample as a named case.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ options: { seconds: { type: 'string', default: '60' } }, allowPositionals: true });
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, not ${values.seconds}`);

const testDir = path.dirname(new URL(import.meta.url).pathname);
const files = positionals.length > 0 ? positionals : readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => path.join(testDir, file))
  .filter((file) => readFileSync(file, 'utf8').includes('propertyRuns('))
  .sort();

process.stdout.write(`Exploring new seeds for ${seconds} s per property in:\n${files.map((f) => `  ${path.relative(process.cwd(), f)}`).join('\n')}\n`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, FEDCTL_FUZZ_SECONDS: String(seconds) },
});
if (run.status !== 0) {
  process.stdout.write('\nA property failed: its message names the seed and the counterexample. Keep the counterexample as a named case in the test file, then fix it.\n');
}
process.exit(run.status ?? 1);
