import { referenceCatalog } from '../../catalog/reference-catalog.js';
import type { DatabaseRelease } from '../../catalog/vantage6-versions.js';
import { databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import { initDatabase } from '../../db/init-database.js';
import { chooseBackend, requireDatabase } from '../../backends/open-backend.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { OutputFlags } from '../output-options.js';

/** `fedctl init`: what a vantage6 server of a release does to an empty database at its first start. */
export async function initCommand(flags: DatabaseFlags & OutputFlags & { vantage6Version: DatabaseRelease }, io: CliIo): Promise<number> {
  const { target } = requireDatabase(chooseBackend(flags, io.env, io.cwd), 'fedctl init');
  const release = flags.vantage6Version;
  const created = databaseIsAbsent(target);
  const adapter = await openDatabase(target, { readonly: false, lockTimeoutMs: flags.lockTimeout * 1000 });
  try {
    const outcome = await initDatabase(adapter, flags.lockTimeout * 1000, release);
    const { rules, defaultRoles } = referenceCatalog(release);
    if (flags.json) {
      const done = outcome === 'exists' ? 'nothing' : created ? 'created' : 'initialised';
      io.stdout.write(`${JSON.stringify({
        formatVersion: 1, database: target.display, done,
        ...(outcome === 'exists' ? {} : { vantage6: release, rules: rules.length, builtInRoles: defaultRoles.length }),
      }, null, 2)}\n`);
    } else if (outcome === 'exists') {
      io.stdout.write(`${target.display} already has the vantage6 schema; nothing was changed.\n`);
    } else {
      io.stdout.write(`${created ? 'Created' : 'Initialised'} ${target.display}: vantage6 ${release} schema, ${rules.length} rules and ${defaultRoles.length} built-in roles.\n`);
    }
    return EXIT_OK;
  } finally {
    await adapter.close();
  }
}
