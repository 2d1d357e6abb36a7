/**
 * `node --import tsx test/real-server/prepare.ts`: install the virtual
 * environments of every release the tests start (two at a time),
 * or find them in the cache. `.ci/run` calls it before the tests; the tests
 * install what is missing themselves.
 */
import { TEST_RELEASES, environmentCache, serverEnvironment } from './server-environment.js';

const started = Date.now();
const queue = [...TEST_RELEASES];
const failures: string[] = [];
await Promise.all([0, 1].map(async () => {
  for (let release = queue.shift(); release !== undefined; release = queue.shift()) {
    const began = Date.now();
    try {
      await serverEnvironment(release);
      process.stdout.write(`vantage6-server ${release}: ready (${((Date.now() - began) / 1000).toFixed(1)} s)\n`);
    } catch (error) {
      failures.push(`${release}: ${(error as Error).message}`);
    }
  }
}));
process.stdout.write(`The real vantage6 servers are in ${environmentCache()} (${((Date.now() - started) / 1000).toFixed(1)} s).\n`);
if (failures.length > 0) {
  process.stderr.write(`${failures.join('\n')}\n`);
  process.exit(1);
}
