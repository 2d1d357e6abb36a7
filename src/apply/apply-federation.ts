import type { Environment } from '../config/interpolate.js';
import type { DatabaseAdapter, Vantage6Db } from '../db/database-adapter.js';
import { inspectSchema, requireVantage6 } from '../db/inspect-schema.js';
import { initializeSchema } from '../db/init-database.js';
import { FedctlError, isFedctlError, messageOf } from '../errors.js';
import { planRefusals, type Plan } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import { readState } from '../state/read-state.js';
import type { HashOptions } from './hash-pool.js';
import { prepareSecrets, type PreparedSecrets } from './prepare-secrets.js';
import {
  checkSecretsFileWritable, mergeSecrets, parseSecrets, restoreSecretsFile, snapshotSecretsFile, writeSecretsFile,
} from './secrets-file.js';
import { ChangeWriter } from './write-changes.js';

export interface ApplyOptions {
  readonly secretsFile: string;
  readonly bcryptCost: number;
  readonly lockTimeoutMs: number;
  /** Deletes are applied only when allowed (a guard for CI). */
  readonly allowDestroy: boolean;
  readonly env: Environment;
  readonly onHashProgress?: (done: number, total: number) => void;
  /** Aborted on Ctrl-C: apply stops before the commit, and nothing is changed. */
  readonly signal?: AbortSignal;
}

/**
 * The plan to apply, given the live state read under the lock: the reviewed
 * plan when nothing changed since; otherwise a fresh one, or an error when
 * a plan made for another state must not be applied.
 */
export type ResolvePlan = (live: LiveState) => Plan;

export interface ApplyResult {
  readonly plan: Plan;
  readonly initialized: boolean;
  /** Entries added to the secrets file. */
  readonly secrets: { readonly nodes: number; readonly users: number };
}

/** Refuse plans that must not be applied, whoever made them. */
export function checkApplicable(plan: Plan, allowDestroy: boolean): void {
  const refusals = planRefusals(plan, allowDestroy);
  if (refusals.length > 0) throw new FedctlError('APPLY_ABORTED', refusals.join('; '), 'nothing was changed');
}

/**
 * Make the database match a plan in one transaction, serialized against
 * other fedctl runs. Secrets are hashed before the transaction (bcrypt is slow
 * and needs no lock); the secrets file is written after every row and before
 * COMMIT, so a key is never lost: if the file cannot be written, nothing is
 * committed.
 */
export async function applyFederation(
  adapter: DatabaseAdapter,
  reviewed: Plan,
  resolve: ResolvePlan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  checkApplicable(reviewed, options.allowDestroy);
  await checkSecretsFileWritable(options.secretsFile);
  const hashing: HashOptions = { onProgress: options.onHashProgress, signal: options.signal };
  const prepared = await prepareSecrets(reviewed.changes, options.env, options.bcryptCost, hashing);
  const written: SecretsWrite = { previous: undefined };
  try {
    return await adapter.writeTransaction((trx) => applyInTransaction(adapter, trx, reviewed, resolve, prepared, hashing, options, written),
      { lockTimeoutMs: options.lockTimeoutMs });
  } catch (error) {
    // Rolled back after the secrets file was written (the commit refused): put the file back as it was.
    // When the outcome of the commit is unknown, the new keys stay: they may belong to committed nodes.
    const unknown = isFedctlError(error) && error.code === 'COMMIT_UNKNOWN';
    if (written.previous !== undefined && !unknown) await restoreSecretsFile(options.secretsFile, written.previous);
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
    checkApplicable(plan, options.allowDestroy);
    secrets = await prepareSecrets(plan.changes, options.env, options.bcryptCost, hashing);
  }
  await new ChangeWriter(adapter, trx, live, secrets).write(plan.changes, checkpoint);
  // The last moment to stop: once the secrets file has the keys, the commit follows.
  checkpoint();
  await saveSecrets(options.secretsFile, secrets, written);
  return {
    plan,
    initialized,
    secrets: { nodes: Object.keys(secrets.fileEntries.nodes).length, users: Object.keys(secrets.fileEntries.users).length },
  };
}

/** The secrets file's text before this apply wrote it; undefined while it has not written it. */
interface SecretsWrite {
  previous: string | null | undefined;
}

async function saveSecrets(file: string, secrets: PreparedSecrets, written: SecretsWrite): Promise<void> {
  const { nodes, users } = secrets.fileEntries;
  if (Object.keys(nodes).length === 0 && Object.keys(users).length === 0) return;
  // Re-read under the lock: another run may have added keys since the check.
  const previous = await snapshotSecretsFile(file);
  await writeSecretsFile(file, mergeSecrets(parseSecrets(file, previous), secrets.fileEntries));
  written.previous = previous;
}
