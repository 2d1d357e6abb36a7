import { databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import type { Vantage6Db } from '../../db/database-adapter.js';
import { inspectSchema, requireVantage6 } from '../../db/inspect-schema.js';
import { chooseBackend, requireDatabase } from '../../backends/open-backend.js';
import { FedctlError } from '../../errors.js';
import { describeApply, formatAppliedAt, hasHistory, listApplies, readApply, type ApplySummary } from '../../history/apply-history.js';
import { renderPlanText } from '../../render/render-plan-text.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import type { OutputFlags } from '../output-options.js';

/** Run `work` on the database's history read-only; null when the database has no history table. */
async function withHistory<T>(flags: DatabaseFlags, io: CliIo, work: (db: Vantage6Db) => Promise<T>): Promise<{ result: T | null; display: string }> {
  // Through the API fedctl keeps no history: it is a table of the database's.
  const { target } = requireDatabase(chooseBackend(flags, io.env, io.cwd), 'fedctl history');
  if (databaseIsAbsent(target)) throw new FedctlError('DATABASE_MISSING', `${target.display} does not exist`, 'point --database at the server\'s database');
  const adapter = await openDatabase(target, { readonly: true, lockTimeoutMs: flags.lockTimeout * 1000 });
  try {
    const schema = requireVantage6(await inspectSchema(adapter), target.display);
    return { result: hasHistory(schema.columns) ? await adapter.readSnapshot(work) : null, display: target.display };
  } finally {
    await adapter.close();
  }
}

const NONE = (display: string): string =>
  `No applies recorded in ${display}: fedctl records each apply that changes something (unless history: false or --no-history).\n`;

/** One line: `#3  2026-11-28 12:00:01 UTC  Anna <a@x>  1a2b3c4d5e6f (main)  2 added, 1 changed, 0 destroyed`. */
function line(record: ApplySummary): string {
  const when = formatAppliedAt(record.appliedAt);
  const who = record.author ?? record.osUser ?? 'unknown';
  const commit = record.commit ? `${record.commit.slice(0, 12)}${record.branch ? ` (${record.branch})` : ''}${record.uncommittedChanges ? ' +uncommitted changes' : ''}` : 'no commit';
  return `#${record.id}  ${when}  ${who}  ${commit}  ${record.summary}`;
}

/** `fedctl history`: the recorded applies, newest first. */
export async function historyListCommand(flags: DatabaseFlags & OutputFlags & { limit: number }, io: CliIo): Promise<number> {
  const { result, display } = await withHistory(flags, io, (db) => listApplies(db, flags.limit));
  const records = result ?? [];
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ formatVersion: 1, database: display, applies: records }, null, 2)}\n`);
  } else if (records.length === 0) {
    io.stdout.write(NONE(display));
  } else {
    for (const record of records) io.stdout.write(`${line(record)}\n`);
  }
  return EXIT_OK;
}

/** `fedctl history show ID`: one record in full, its plan rendered as plan renders it. */
export async function historyShowCommand(id: number, flags: DatabaseFlags & OutputFlags, io: CliIo): Promise<number> {
  const { result, display } = await withHistory(flags, io, (db) => readApply(db, id));
  if (!result) throw new FedctlError('HISTORY_NOT_FOUND', `no apply #${id} is recorded in ${display}`, 'fedctl history lists the recorded applies');
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ formatVersion: 1, apply: result }, null, 2)}\n`);
    return EXIT_OK;
  }
  const facts: [string, string | null][] = [
    ['applied', describeApply(result)],
    ['fedctl', result.fedctlVersion],
    ['commit', result.commit === null ? null : `${result.commit}${result.uncommittedChanges ? ' (the config had uncommitted changes)' : ''}`],
    ['branch', result.branch],
    ['author', result.author],
    ['repository', result.repository],
    ['CI job', result.ciJobUrl],
    ['OS user', result.osUser],
    ['config', result.configFingerprint],
    ['state after', result.stateFingerprint],
  ];
  for (const [label, value] of facts) if (value !== null) io.stdout.write(`${`${label}:`.padEnd(13)} ${value}\n`);
  io.stdout.write('\n');
  const { history: _history, ...plan } = result.plan;
  io.stdout.write(renderPlanText(plan, { color: useColor(io.stdout, io.env, flags.color), showUnmanaged: false }));
  return EXIT_OK;
}
