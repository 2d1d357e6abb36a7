import { keycloakDistribution } from './keycloak.js';
import { isHq, serverEnvironment, storeEnvironment } from './server-environment.js';

/**
 * Whether what `install` installs (or takes from the cache) can run here:
 * false when it can, else why not. Without Python or PyPI (or for HQ, Java
 * 21 and Maven Central) the tests that need it are skipped with a message
 * saying so, unless FEDCTL_REQUIRE_REAL_SERVERS (CI) makes that a failure.
 * FEDCTL_REAL_SERVER_RELEASES selects releases by number.
 */
async function availability(what: string, release: string, install: () => Promise<unknown>): Promise<string | false> {
  const selected = process.env.FEDCTL_REAL_SERVER_RELEASES?.split(',').map((r) => r.trim()).filter((r) => r !== '');
  if (selected && !selected.includes(release)) return `not in FEDCTL_REAL_SERVER_RELEASES (${selected.join(', ')})`;
  try {
    await install();
    return false;
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'unknown';
    if (process.env.FEDCTL_REQUIRE_REAL_SERVERS) throw new Error(`the real ${what} is required (FEDCTL_REQUIRE_REAL_SERVERS) but cannot be installed: ${(error as Error).message}`);
    process.stderr.write(`\n*** the real ${what} cannot be installed (${reason}): its tests are SKIPPED ***\n\n`);
    return reason;
  }
}

/** Which releases' servers can run here (for HQ, with its Keycloak): false when one can, else why not. */
export async function availableServers(releases: readonly string[]): Promise<Map<string, string | false>> {
  const available = new Map<string, string | false>();
  for (const release of releases) {
    available.set(release, await availability(`vantage6 ${release} server`, release, async () => {
      await serverEnvironment(release);
      if (isHq(release)) await keycloakDistribution();
    }));
  }
  return available;
}

/** Whether a release's algorithm store can run here, beside its server: false when it can, else why not. */
export async function availableStore(release: string): Promise<string | false> {
  return availability(`vantage6 algorithm store ${release}`, release, () => storeEnvironment(release));
}
