import type { DatabaseAdapter, Vantage6Db } from '../../db/database-adapter.js';
import { inspectSchema, requireVantage6, type Vantage6Schema } from '../../db/inspect-schema.js';
import { initializeSchema } from '../../db/init-database.js';
import { FedctlError, isFedctlError, messageOf } from '../../errors.js';
import { assertApplicable, planHasChanges, type Plan } from '../../plan/plan.js';
import { fingerprintAdministration } from '../../plan/fingerprint.js';
import { FEDCTL_VERSION } from '../../fedctl-version.js';
import { hasHistory, recordApply } from '../../history/apply-history.js';
import { usesKeycloak } from '../../catalog/vantage6-versions.js';
import type { LiveState } from '../../state/live-state.js';
import { readState } from './read-database-state.js';
import type { HashOptions } from '../../apply/hash-pool.js';
import { prepareSecrets, type PreparedSecrets } from '../../apply/prepare-secrets.js';
import type { MadeSecrets } from '../../secrets/secrets-store.js';
import type { ApplyOptions, ApplyResult, ResolvePlan } from '../backend.js';
import { ChangeWriter } from './write-changes.js';

/**
 * Make the database match a plan in one transaction, serialized against
 * other fedctl runs. Secrets are hashed before the transaction (bcrypt is slow
 * and needs no lock); the secrets store is written after every row and before
 * COMMIT, so a key is never lost: if it cannot be written, nothing is
 * committed.
 */
export async function applyToDatabase(
  adapter: DatabaseAdapter,
  reviewed: Plan,
  resolve: ResolvePlan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  assertApplicable(reviewed, options.allowDestroy);
  await options.secrets.check();
  const hashing: HashOptions = { onProgress: options.onHashProgress, signal: options.signal };
  const prepared = await prepareSecrets(reviewed.changes, options.env, options.bcryptCost, hashing);
  const written: SecretsWrite = { undo: null };
  try {
    return await adapter.writeTransaction((trx) => applyInTransaction(adapter, trx, reviewed, resolve, prepared, hashing, options, written),
      { lockTimeoutMs: options.lockTimeoutMs });
  } catch (error) {
    // Rolled back after the secrets were written (the commit refused): put the store back as it was.
    // When the outcome of the commit is unknown, the new keys stay: they may belong to committed nodes.
    const unknown = isFedctlError(error) && error.code === 'COMMIT_UNKNOWN';
    if (written.undo !== null && !unknown) await written.undo();
    if (isFedctlError(error)) throw error;
    // A database refusal (a constraint, a read-only file, a lost connection): the transaction is rolled back.
    throw new FedctlError('APPLY_FAILED', `apply failed and was rolled back: ${messageOf(error).split('\n')[0]}`,
      'fix the cause and run fedctl apply again', { cause: error });
  }
}

async function applyInTransaction(
  adapter: DatabaseAdapter,
  trx: Vantage6Db,
  reviewed: Plan,
  resolve: ResolvePlan,
  prepared: PreparedSecrets,
  hashing: HashOptions,
  options: ApplyOptions,
  written: SecretsWrite,
): Promise<ApplyResult> {
  const checkpoint = (): void => options.signal?.throwIfAborted();
  const initialized = reviewed.database.initialize && (await initializeSchema(adapter, trx)) === 'created';
  const schema = requireVantage6(await inspectSchema(adapter, trx), adapter.target.display);
  const live = await readState(trx, schema);
  const plan = resolve(live);
  let secrets = prepared;
  if (plan !== reviewed) {
    assertApplicable(plan, options.allowDestroy);
    secrets = await prepareSecrets(plan.changes, options.env, options.bcryptCost, hashing);
  }
  await new ChangeWriter(adapter, trx, live, secrets).write(plan.changes, checkpoint);
  const recordId = options.record && planHasChanges(plan) ? await record(adapter, trx, schema, plan, options.record) : null;
  // The last moment to stop: once the secrets are stored, the commit follows.
  checkpoint();
  const ids = Object.keys(secrets.fileEntries.nodes).length > 0 ? await userIds(trx) : {};
  const made = madeSecrets(secrets, plan, live, adapter.target.display, ids);
  if (made !== null) written.undo = await options.secrets.save(made);
  return { plan, initialized, secrets: made, recordId };
}

/** The history record of this apply, with the state it leaves (read back inside the transaction). */
async function record(adapter: DatabaseAdapter, trx: Vantage6Db, schema: Vantage6Schema, plan: Plan,
  { provenance, configFingerprint }: NonNullable<ApplyOptions['record']>): Promise<number> {
  const after = await readState(trx, schema);
  const { add, change, destroy } = plan.summary;
  return recordApply(trx, hasHistory(schema.columns), {
    ...provenance,
    appliedAt: new Date().toISOString(),
    fedctlVersion: FEDCTL_VERSION,
    summary: `${add} added, ${change} changed, ${destroy} destroyed`,
    configFingerprint,
    stateFingerprint: fingerprintAdministration(after),
    plan,
  }, (value) => adapter.toBoolean(value));
}

/** How to undo what the secrets store saved; null while it has saved nothing. */
interface SecretsWrite {
  undo: (() => Promise<void>) | null;
}

/** The users' ids as the transaction leaves them, by username: node files name the users their policies allow by id. */
async function userIds(trx: Vantage6Db): Promise<Record<string, number>> {
  const rows = await trx.selectFrom('user').select(['id', 'username']).execute();
  return Object.fromEntries(rows.flatMap((row) => (row.username === null ? [] : [[row.username, row.id]])));
}

/** What the secrets stage gets: the new secrets, and each collaboration's encryption once the plan is applied. */
function madeSecrets(secrets: PreparedSecrets, plan: Plan, live: LiveState, database: string, ids: Record<string, number>): MadeSecrets | null {
  const { nodes, users } = secrets.fileEntries;
  if (Object.keys(nodes).length === 0 && Object.keys(users).length === 0) return null;
  const collaborationEncrypted: Record<string, boolean> = Object.fromEntries(live.collaborations.map((c) => [c.name, c.encrypted]));
  for (const change of plan.changes) {
    if (change.kind === 'collaboration' && change.action !== 'delete') collaborationEncrypted[change.after.name] = change.after.encrypted;
  }
  return { content: secrets.fileEntries, collaborationEncrypted, database, keycloak: usesKeycloak(live.server.versions.to), userIds: ids };
}
