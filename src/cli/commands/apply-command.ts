import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { applyFederation, type ResolvePlan } from '../../apply/apply-federation.js';
import { isExposedToGit } from '../../apply/git-exposure.js';
import { hashWorkerCount } from '../../apply/hash-pool.js';
import { DEFAULT_SECRETS_FILE_NAME, listConfigFiles } from '../../config/load-config.js';
import { NEWEST_RELEASE } from '../../catalog/vantage6-versions.js';
import { openDatabase } from '../../db/open-database.js';
import type { DatabaseTarget } from '../../db/database-url.js';
import { resolveDatabase } from '../../db/resolve-database.js';
import { FedctlError } from '../../errors.js';
import { NO_SECRETS_SETTINGS, type SecretsSettings } from '../../federation.js';
import { DEFAULT_SECRETS_DIR_NAME, openSecretsStore, type SecretsLocation } from '../../secrets/open-secrets-store.js';
import { computePlan } from '../../plan/compute-plan.js';
import { fingerprintConfig, fingerprintState } from '../../plan/fingerprint.js';
import { detectProvenance } from '../../history/provenance.js';
import { planHasChanges, planRefusals, type Plan } from '../../plan/plan.js';
import { isSavedPlanFile, readSavedPlan } from '../../plan/saved-plan.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { planOptionsFrom, type PlanFlags } from '../plan-flags.js';
import { loadAndRead, planFrom, showPlan } from './plan-command.js';

export interface ApplyFlags extends PlanFlags {
  readonly autoApprove?: boolean;
  readonly secretsFile?: string;
  readonly secretsDir?: string;
  /** `--recipient`: admins' age public keys on top of the config's. */
  readonly recipient: string[];
  /** false under `--no-history`: this apply is not recorded. */
  readonly history: boolean;
  readonly bcryptCost: number;
}

/**
 * Where secrets go: `--secrets-file` / `--secrets-dir`, or beside the config
 * file (or saved plan), inside a config directory.
 */
async function secretsLocation(paths: readonly string[], flags: ApplyFlags, io: CliIo): Promise<SecretsLocation> {
  const first = (await listConfigFiles(paths.slice(0, 1)))[0] ?? paths[0] ?? '.';
  return {
    file: flags.secretsFile ? path.resolve(io.cwd, flags.secretsFile) : path.join(path.dirname(first), DEFAULT_SECRETS_FILE_NAME),
    dir: flags.secretsDir ? path.resolve(io.cwd, flags.secretsDir) : path.join(path.dirname(first), DEFAULT_SECRETS_DIR_NAME),
  };
}

/** The config's secrets settings with the admins' recipients of `--recipient` and FEDCTL_AGE_RECIPIENTS added. */
function withRecipients(settings: SecretsSettings, flags: ApplyFlags, env: CliIo['env']): SecretsSettings {
  const fromEnv = (env.FEDCTL_AGE_RECIPIENTS ?? '').split(/[\s,]+/).filter((r) => r !== '');
  return { ...settings, recipients: [...new Set([...settings.recipients, ...flags.recipient, ...fromEnv])] };
}

async function confirm(io: CliIo): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await prompt.question("Apply these changes? Only 'yes' is accepted: ");
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
  }
}

const sameChanges = (a: Plan, b: Plan): boolean => JSON.stringify(a.changes) === JSON.stringify(b.changes);

/** `--no-history` turns recording off for this run, also for a saved plan. */
function withRecording(plan: Plan, allowed: boolean): Plan {
  return plan.history === undefined || allowed ? plan : { ...plan, history: { ...plan.history, recording: false } };
}

/**
 * What to apply, and how to re-check it under the lock: a saved plan must
 * still match the live state it was made from; a plan from the config is
 * recomputed and, if the database changed meanwhile, applied fresh only
 * without a human reviewer (--auto-approve).
 */
interface PreparedPlan {
  readonly plan: Plan;
  readonly resolve: ResolvePlan;
  readonly secrets: SecretsSettings;
  readonly configFingerprint: string;
}

async function preparePlan(paths: readonly string[], target: DatabaseTarget, flags: ApplyFlags, io: CliIo): Promise<PreparedPlan> {
  if (paths.length === 1 && isSavedPlanFile(paths[0] as string)) {
    const saved = await readSavedPlan(paths[0] as string);
    if (saved.plan.database.display !== target.display) {
      throw new FedctlError('PLAN_CHANGED', `the plan was made for ${saved.plan.database.display}, not ${target.display}`,
        'apply it to the database it was made for (--database)');
    }
    const plan = withRecording(saved.plan, flags.history);
    return {
      plan,
      secrets: saved.secrets ?? NO_SECRETS_SETTINGS,
      configFingerprint: saved.configFingerprint,
      resolve: (live) => {
        if (fingerprintState(live) !== saved.stateFingerprint) {
          throw new FedctlError('PLAN_CHANGED', 'the database changed since this plan was made; run fedctl plan again', 'nothing was changed');
        }
        return plan;
      },
    };
  }
  const { desired, state } = await loadAndRead(paths, target, flags, io);
  const options = planOptionsFrom(flags, desired);
  const { plan } = planFrom(target, desired, options, state, desired.history && flags.history);
  return {
    plan,
    secrets: desired.secrets,
    configFingerprint: fingerprintConfig(desired),
    resolve: (live) => {
      const fresh = { ...computePlan(desired, live, plan.database, options), history: plan.history };
      if (sameChanges(fresh, plan)) return plan;
      if (!flags.autoApprove) {
        throw new FedctlError('PLAN_CHANGED', 'the database changed since the plan was shown; nothing was applied',
          'run fedctl apply again to review the new plan');
      }
      return fresh;
    },
  };
}

/** `fedctl apply`: show the plan, ask, then make the database match in one transaction. */
export async function applyCommand(paths: readonly string[], flags: ApplyFlags, io: CliIo): Promise<number> {
  const { target } = resolveDatabase(flags, io.env, io.cwd);
  const prepared = await preparePlan(paths, target, flags, io);
  const { plan, resolve } = prepared;
  const recording = plan.history?.recording ?? flags.history;
  const settings = withRecipients(prepared.secrets, flags, io.env);
  if (settings.recipients.length > 0 && flags.secretsFile) {
    throw new FedctlError('SECRETS_FILE', 'with recipients, secrets are never written in plaintext: --secrets-file does not apply',
      'give the folder for the encrypted secrets with --secrets-dir');
  }
  const store = await openSecretsStore(settings, await secretsLocation(paths, flags, io));
  const lockTimeoutMs = flags.lockTimeout * 1000;
  showPlan(plan, flags, io);
  const refusals = planRefusals(plan, flags.allowDestroy ?? false);
  for (const refusal of refusals) io.stderr.write(`Error: ${refusal}\n`);
  if (refusals.length > 0) return EXIT_ERROR;
  if (!planHasChanges(plan)) return EXIT_OK;

  if (!flags.autoApprove) {
    if (!io.stdin.isTTY) {
      throw new FedctlError('NOT_INTERACTIVE', 'apply needs confirmation, but there is no terminal to ask',
        'review the plan and pass --auto-approve');
    }
    if (!(await confirm(io))) {
      io.stderr.write('Apply cancelled; nothing was changed.\n');
      return EXIT_OK;
    }
  }

  const progress = io.stderr.isTTY
    ? (done: number, total: number): void => {
      io.stderr.write(`\rHashing secrets (bcrypt cost ${flags.bcryptCost}, ${hashWorkerCount(total)} workers): ${done}/${total}${done === total ? '\n' : ''}`);
    }
    : undefined;
  // Ctrl-C (or a TERM from CI) stops the apply at its next step and rolls the transaction back.
  const interrupt = new AbortController();
  const onInterrupt = (): void => {
    io.stderr.write('\nInterrupted: stopping before the commit...\n');
    interrupt.abort(new FedctlError('INTERRUPTED', 'interrupted: the transaction was rolled back; nothing was changed',
      'run fedctl apply again when you are ready'));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const adapter = await openDatabase(target, { readonly: false, lockTimeoutMs });
  try {
    const result = await applyFederation(adapter, plan, resolve, {
      signal: interrupt.signal,
      secrets: store,
      record: recording
        ? { provenance: await detectProvenance(io.env, path.dirname(path.resolve(io.cwd, paths[0] ?? '.')), paths.map((p) => path.resolve(io.cwd, p))), configFingerprint: prepared.configFingerprint }
        : null,
      bcryptCost: flags.bcryptCost,
      lockTimeoutMs,
      allowDestroy: flags.allowDestroy ?? false,
      env: io.env,
      onHashProgress: progress,
    });
    // Under --json stdout holds the plan document only.
    const report = flags.json ? io.stderr : io.stdout;
    if (result.plan !== plan) report.write('The database changed while waiting for the lock; applied the plan computed afresh.\n');
    if (result.initialized) report.write(`Initialised ${target.display} with the vantage6 ${NEWEST_RELEASE} schema.\n`);
    const { add, change, destroy } = result.plan.summary;
    report.write(`Apply complete: ${add} added, ${change} changed, ${destroy} destroyed.${result.recordId === null ? '' : ` Recorded as #${result.recordId} in the database's history.`}\n`);
    if (result.secrets !== null) {
      report.write(`${store.describe(result.secrets)}\n`);
      if (settings.recipients.length === 0 && await isExposedToGit(store.location)) {
        io.stderr.write(`warning: ${store.location} is inside a git work tree and not ignored; add it to .gitignore so that no key is ever committed\n`);
      }
    }
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await adapter.close();
  }
}
