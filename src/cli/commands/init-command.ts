import { databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import { initDatabase } from '../../db/init-database.js';
import { resolveDatabase } from '../../db/resolve-database.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** `fedctl init`: what a vantage6 server does to an empty database at its first start. */
export async function initCommand(flags: DatabaseFlags, io: CliIo): Promise<number> {
  const { target } = resolveDatabase(flags, io.env, io.cwd);
  const created = databaseIsAbsent(target);
  const adapter = await openDatabase(target, { readonly: false, lockTimeoutMs: flags.lockTimeout * 1000 });
  try {
    const outcome = await initDatabase(adapter, flags.lockTimeout * 1000);
    if (outcome === 'exists') {
      io.stdout.write(`${target.display} already has the vantage6 schema; nothing was changed.\n`);
    } else {
      io.stdout.write(`${created ? 'Created' : 'Initialised'} ${target.display}: vantage6 4.14 schema, 86 rules and 7 built-in roles.\n`);
    }
    return EXIT_OK;
  } finally {
    await adapter.close();
  }
}
