import type { Environment } from '../config/interpolate.js';
import type { DatabaseAdapter } from '../db/database-adapter.js';
import { inspectSchema, schemaProblem } from '../db/inspect-schema.js';
import { initializeSchema } from '../db/init-database.js';
import { FedctlError } from '../errors.js';
import type { DesiredState } from '../federation.js';
import { computePlan } from '../plan/compute-plan.js';
import type { Change, Plan } from '../plan/plan.js';
import { readState } from '../state/read-state.js';
import { prepareSecrets, type PreparedSecrets } from './prepare-secrets.js';
import { checkSecretsFileWritable, mergeSecrets, readSecretsFile, writeSecretsFile } from './secrets-file.js';
import { ChangeWriter } from './write-changes.js';

export interface ApplyOptions {
  readonly secretsFile: string;
  readonly bcryptCost: number;
  readonly lockTimeoutMs: number;
  /**
   * When the database changed between review and apply: true applies the
   * fresh plan (nobody reviewed the old one), false refuses.
   */
  readonly acceptChangedPlan: boolean;
  readonly env: Environment;
  readonly onHashProgress?: (done: number, total: number) => void;
}

export interface ApplyResult {
  /** The plan that was applied (the reviewed one, or a fresh one if it changed and that was allowed). */
  readonly plan: Plan;
  readonly initialized: boolean;
  /** Entries added to the secrets file. */
  readonly secrets: { readonly nodes: number; readonly users: number };
}

const sameChanges = (a: readonly Change[], b: readonly Change[]): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Make the database match the desired state in one transaction, serialized
 * against other fedctl runs. Secrets are hashed before the transaction (bcrypt
 * is slow and needs no lock); the secrets file is written after every row and
 * before COMMIT, so a key is never lost: if the file cannot be written,
 * nothing is committed.
 */
export async function applyFederation(
  adapter: DatabaseAdapter,
  desired: DesiredState,
  reviewed: Plan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  await checkSecretsFileWritable(options.secretsFile);
  let secrets = await prepareSecrets(reviewed.changes, options.env, options.bcryptCost, options.onHashProgress);

  return adapter.writeTransaction(async (trx) => {
    let initialized = false;
    if (reviewed.database.initialize) {
      initialized = (await initializeSchema(adapter, trx)) === 'created';
    } else {
      const problem = schemaProblem(await inspectSchema(adapter, trx), adapter.target.display);
      if (problem) throw problem;
    }
    const live = await readState(trx);
    const plan = computePlan(desired, live, reviewed.database);
    if (!sameChanges(plan.changes, reviewed.changes)) {
      if (!options.acceptChangedPlan) {
        throw new FedctlError('PLAN_CHANGED', 'the database changed since the plan was shown; nothing was applied',
          'run fedctl apply again to review the new plan');
      }
      secrets = await prepareSecrets(plan.changes, options.env, options.bcryptCost, options.onHashProgress);
    }
    await new ChangeWriter(adapter, trx, live, secrets).write(plan.changes);
    await saveSecrets(options.secretsFile, secrets);
    return {
      plan,
      initialized,
      secrets: { nodes: Object.keys(secrets.fileEntries.nodes).length, users: Object.keys(secrets.fileEntries.users).length },
    };
  }, { lockTimeoutMs: options.lockTimeoutMs });
}

async function saveSecrets(file: string, secrets: PreparedSecrets): Promise<void> {
  const { nodes, users } = secrets.fileEntries;
  if (Object.keys(nodes).length === 0 && Object.keys(users).length === 0) return;
  // Re-read under the lock: another run may have added keys since the check.
  await writeSecretsFile(file, mergeSecrets(await readSecretsFile(file), secrets.fileEntries));
}
