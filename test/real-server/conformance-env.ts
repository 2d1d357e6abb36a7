import { keycloakDistribution } from './keycloak.js';
import { isHq, serverEnvironment } from './server-environment.js';

/**
 * Which releases' servers can run here: each one's environment is installed
 * (or taken from the cache) now, and for HQ its Keycloak. Without Python or
 * PyPI (or for HQ, Java 21 and Maven Central) the conformance tests are
 * skipped with a message saying so, unless FEDCTL_REQUIRE_REAL_SERVERS (CI)
 * makes that a failure.
 */
export async function availableServers(releases: readonly string[]): Promise<Map<string, string | false>> {
  const available = new Map<string, string | false>();
  const selected = process.env.FEDCTL_REAL_SERVER_RELEASES?.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const release of releases) {
    if (selected && !selected.includes(release)) {
      available.set(release, `not in FEDCTL_REAL_SERVER_RELEASES (${selected.join(', ')})`);
      continue;
    }
    try {
      await serverEnvironment(release);
      if (isHq(release)) await keycloakDistribution();
      available.set(release, false);
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? 'unknown';
      if (process.env.FEDCTL_REQUIRE_REAL_SERVERS) throw new Error(`the real vantage6 ${release} server is required (FEDCTL_REQUIRE_REAL_SERVERS) but cannot be installed: ${(error as Error).message}`);
      process.stderr.write(`\n*** the real vantage6 ${release} server cannot be installed (${reason}): its conformance tests are SKIPPED ***\n\n`);
      available.set(release, reason);
    }
  }
  return available;
}
