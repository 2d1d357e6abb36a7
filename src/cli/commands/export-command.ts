import { writeFile } from 'node:fs/promises';
import { describeRange } from '../../catalog/vantage6-versions.js';
import { describeApply } from '../../history/apply-history.js';
import { stringify } from 'yaml';
import { chooseBackend, openBackend } from '../../backends/open-backend.js';
import { FedctlError, messageOf } from '../../errors.js';
import { exportConfig } from '../../export/export-config.js';
import { withComponents } from '../../components/with-components.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { OutputFlags } from '../output-options.js';
import { storesToRead } from '../store-options.js';

export interface ExportFlags extends DatabaseFlags, OutputFlags {
  readonly out?: string;
  /** `--store URL`, repeatable: also the roles, users and policies of these linked stores, read as fedctl's account. */
  readonly store: string[];
}

/** `fedctl export`: the live federation as a config, to adopt an existing server. */
export async function exportCommand(flags: ExportFlags, io: CliIo): Promise<number> {
  const backend = await openBackend(chooseBackend(flags, io.env, io.cwd), io.env);
  const target = { display: backend.display };
  const read = await backend.read({ lockTimeoutMs: flags.lockTimeout * 1000, forDeletes: false });
  if (read.initialize) throw new FedctlError('DATABASE_MISSING', `${target.display} has no vantage6 database`, 'point --database at the server\'s database');
  // On vantage6 5, users' names, e-mail and state come from Keycloak too, when fedctl's account may read them there.
  const components = await withComponents(backend, { ...storesToRead(flags.store, read.live), keptUsers: null }, io.env,
    (line) => io.stderr.write(`warning: ${line}\n`));
  const { live, lastApply } = await components.addTo(read);
  const result = exportConfig(live);
  const version = live.server.versions;
  const exportedAt = new Date().toISOString();
  const header = [
    `# Exported by fedctl from ${target.display} (vantage6 ${describeRange(version)}) on ${exportedAt}.`,
    '# Built-in roles and the server\'s administrator are the server\'s own and left out, as is fedctl\'s account; no secrets are exported.',
    ...(lastApply ? [`# Last apply by fedctl: ${describeApply(lastApply)}.`] : []),
    ...result.skipped.map((skip) => `# Left out: ${skip.what}: ${skip.reason}.`),
  ];
  const text = flags.json
    ? `${JSON.stringify({
      formatVersion: 1, database: target.display, vantage6: describeRange(version), exportedAt,
      lastApply: lastApply === null ? null : describeApply(lastApply), leftOut: result.skipped, config: result.config,
    }, null, 2)}\n`
    : `${header.join('\n')}\n${stringify(result.config, { lineWidth: 0 })}`;
  if (flags.out) {
    try {
      await writeFile(flags.out, text);
    } catch (error) {
      throw new FedctlError('CONFIG_UNREADABLE', `cannot write ${flags.out}: ${messageOf(error)}`);
    }
    io.stderr.write(`Exported the federation of ${target.display} to ${flags.out}.\n`);
  } else {
    io.stdout.write(text);
  }
  for (const skip of result.skipped) io.stderr.write(`warning: left out ${skip.what}: ${skip.reason}\n`);
  return EXIT_OK;
}
