/**
 * `node --import tsx test/real-server/prepare.ts`: install the virtual
 * environments of every release of a server or store the tests start (two
 * at a time) and HQ's Keycloak, or find them in the cache. `.ci/run` calls it before the tests;
 * the tests install what is missing themselves.
 */
import { KEYCLOAK_VERSION, keycloakDistribution } from './keycloak.js';
import { STORE_RELEASES, TEST_RELEASES, environmentCache, serverEnvironment, storeEnvironment } from './server-environment.js';

const started = Date.now();
const queue: [string, () => Promise<unknown>][] = [
  [`Keycloak ${KEYCLOAK_VERSION}`, () => keycloakDistribution()],
  ...TEST_RELEASES.map((release): [string, () => Promise<unknown>] => [`vantage6 ${release}`, () => serverEnvironment(release)]),
  ...STORE_RELEASES.map((release): [string, () => Promise<unknown>] => [`vantage6 algorithm store ${release}`, () => storeEnvironment(release)]),
];
const failures: string[] = [];
await Promise.all([0, 1].map(async () => {
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const [what, install] = next;
    const began = Date.now();
    try {
      await install();
      process.stdout.write(`${what}: ready (${((Date.now() - began) / 1000).toFixed(1)} s)\n`);
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  }
}));
process.stdout.write(`The real vantage6 servers are in ${environmentCache()} (${((Date.now() - started) / 1000).toFixed(1)} s).\n`);
if (failures.length > 0) {
  process.stderr.write(`${failures.join('\n')}\n`);
  process.exit(1);
}
