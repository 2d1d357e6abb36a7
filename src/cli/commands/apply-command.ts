import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Backend, ResolvePlan } from '../../backends/backend.js';
import { chooseBackend, hashingOf, openBackend, type BackendChoice } from '../../backends/open-backend.js';
import { isExposedToGit } from '../../apply/git-exposure.js';
import { DEFAULT_BCRYPT_COST } from '../../apply/bcrypt-cost.js';
import { hashWorkerCount } from '../../apply/hash-pool.js';
import { NEWEST_RELEASE } from '../../catalog/vantage6-versions.js';
import { FedctlError } from '../../errors.js';
import { NO_SECRETS_SETTINGS, isStoreKind, type SecretsSettings } from '../../federation.js';
import { computePlan } from '../../plan/compute-plan.js';
import { assessPlan } from '../../policy/assess-plan.js';
import { fingerprintConfig } from '../../plan/fingerprint.js';
import { detectProvenance } from '../../history/provenance.js';
import { planHasChanges, planRefusals, type Plan } from '../../plan/plan.js';
import { isSavedPlanFile, readSavedPlan } from '../../plan/saved-plan.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { SecretsStore } from '../../secrets/secrets-store.js';
import { withComponents } from '../../components/with-components.js';
import { planOptionsFrom, type PlanFlags } from '../plan-flags.js';
import { secretsStoreFor, withRecipients, withStaleNodeFiles, withUnrecordedKeys } from '../secrets-options.js';
import { loadAndRead, planFrom, showPlan } from './plan-command.js';

export interface ApplyFlags extends PlanFlags {
  readonly autoApprove?: boolean;
  readonly recipient: string[];
  /** false under `--no-history`: this apply is not recorded. */
  readonly history: boolean;
  /** `--bcrypt-cost`, when given: a database's hashes only. */
  readonly bcryptCost?: number;
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
  readonly backend: Backend;
  readonly store: SecretsStore;
  readonly plan: Plan;
  readonly resolve: ResolvePlan;
  readonly secrets: SecretsSettings;
  readonly configFingerprint: string;
}

/** `--bcrypt-cost` sets the cost of hashes fedctl writes into a database: through an API it is an error before anything connects. */
function refuseBcryptCost(flags: ApplyFlags): (choice: BackendChoice) => void {
  return (choice) => {
    if (flags.bcryptCost === undefined || hashingOf(choice) === 'fedctl') return;
    const where = choice.kind === 'api' ? choice.url : 'its API';
    throw new FedctlError('BACKEND_UNSUPPORTED', `--bcrypt-cost does nothing here: through ${where} the server hashes keys and passwords at its own cost`,
      'leave --bcrypt-cost out (it sets the cost of hashes fedctl writes into a database)');
  };
}

async function preparePlan(paths: readonly string[], flags: ApplyFlags, io: CliIo): Promise<PreparedPlan> {
  if (paths.length === 1 && isSavedPlanFile(paths[0] as string)) {
    const saved = await readSavedPlan(paths[0] as string);
    const chosen = chooseBackend(flags, io.env, io.cwd);
    // A saved plan knows where it was made for: a server's API, when no flag or variable names another way in.
    const choice = chosen.kind === 'database' && chosen.byDefault && saved.plan.database.engine === 'api'
      ? { kind: 'api' as const, url: saved.plan.database.display, source: 'the saved plan' as const } : chosen;
    refuseBcryptCost(flags)(choice);
    const server = await openBackend(choice, io.env);
    if (saved.plan.database.display !== server.display) {
      throw new FedctlError('PLAN_CHANGED', `the plan was made for ${saved.plan.database.display}, not ${server.display}`,
        'apply it where it was made for (--database or --server)');
    }
    if (saved.stores === undefined && saved.plan.changes.some((change) => isStoreKind(change.kind))) {
      throw new FedctlError('BACKEND_UNSUPPORTED', 'this saved plan changes the users or roles of algorithm stores and does not say which stores the config manages (an older fedctl saved it)',
        'plan again with this fedctl (fedctl plan CONFIG -o plan.json), or apply the config');
    }
    const plan = withRecording(saved.plan, flags.history);
    const secrets = saved.secrets ?? NO_SECRETS_SETTINGS;
    // Keycloak's and the stores' state join the server's as they did when the plan was made: the fingerprint covers them all.
    const { backend } = await withComponents(server, {
      managedStores: saved.stores ?? [], secrets, keptUsers: saved.keptUsers ?? [], readsTwoFactor: saved.readsTwoFactor === true,
      identityProviders: saved.identityProviders ?? [], prune: { identity_provider: saved.identityProviders !== undefined },
    }, io.env);
    return {
      backend,
      store: await secretsStoreFor(paths, withRecipients(secrets, flags, io.env), flags, io),
      plan,
      secrets,
      configFingerprint: saved.configFingerprint,
      resolve: (live) => {
        if (backend.fingerprint(live) !== saved.stateFingerprint) {
          throw new FedctlError('PLAN_CHANGED', `${backend.display} changed since this plan was made; run fedctl plan again`, 'nothing was changed');
        }
        return plan;
      },
    };
  }
  const { desired, state, backend, adaptedFrom, secretsBeside } = await loadAndRead(paths, flags, io, refuseBcryptCost(flags));
  const options = planOptionsFrom(flags, desired);
  const store = await secretsStoreFor(secretsBeside, withRecipients(desired.secrets, flags, io.env), flags, io);
  const planned = planFrom(backend, desired, options, state, desired.history && flags.history, adaptedFrom).plan;
  const plan = await withStaleNodeFiles(backend.capabilities.nodeKeys === 'server' ? await withUnrecordedKeys(planned, state.live, store) : planned, desired, state.live, store);
  return {
    backend,
    store,
    plan,
    secrets: desired.secrets,
    configFingerprint: fingerprintConfig(desired),
    resolve: (live) => {
      const fresh = { ...assessPlan(computePlan(desired, live, plan.database, options), live, desired.policy), history: plan.history };
      if (sameChanges(fresh, plan)) return plan;
      if (!flags.autoApprove) {
        throw new FedctlError('PLAN_CHANGED', `${backend.display} changed since the plan was shown; nothing was applied`,
          'run fedctl apply again to review the new plan');
      }
      return fresh;
    },
  };
}

/** `fedctl apply`: show the plan, ask, then make the server match: in one transaction, or call by call through its API. */
export async function applyCommand(paths: readonly string[], flags: ApplyFlags, io: CliIo): Promise<number> {
  const prepared = await preparePlan(paths, flags, io);
  const { plan, resolve, backend, store } = prepared;
  const bcryptCost = flags.bcryptCost ?? DEFAULT_BCRYPT_COST;
  const transactional = backend.capabilities.transactional;
  const recording = plan.history?.recording ?? flags.history;
  const settings = withRecipients(prepared.secrets, flags, io.env);
  const lockTimeoutMs = flags.lockTimeout * 1000;
  showPlan(plan, paths, flags, io);
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
      io.stderr.write(`\rHashing secrets (bcrypt cost ${bcryptCost}, ${hashWorkerCount(total)} workers): ${done}/${total}${done === total ? '\n' : ''}`);
    }
    : undefined;
  // Ctrl-C (or a TERM from CI) stops the apply at its next step: the transaction is rolled back, or no further call is made.
  const interrupt = new AbortController();
  const onInterrupt = (): void => {
    io.stderr.write(transactional ? '\nInterrupted: stopping before the commit...\n' : '\nInterrupted: stopping before the next call...\n');
    interrupt.abort(transactional
      ? new FedctlError('INTERRUPTED', 'interrupted: the transaction was rolled back; nothing was changed', 'run fedctl apply again when you are ready')
      : new FedctlError('INTERRUPTED', 'interrupted: the calls made so far stay made, their secrets are recorded', 'run fedctl plan to see what is left'));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    const result = await backend.apply(plan, resolve, {
      signal: interrupt.signal,
      secrets: store,
      record: recording
        ? { provenance: await detectProvenance(io.env, path.dirname(path.resolve(io.cwd, paths[0] ?? '.')), paths.map((p) => path.resolve(io.cwd, p))), configFingerprint: prepared.configFingerprint }
        : null,
      bcryptCost,
      lockTimeoutMs,
      allowDestroy: flags.allowDestroy ?? false,
      env: io.env,
      serverAddress: prepared.secrets.server,
      onHashProgress: progress,
    });
    // Under --json stdout holds the plan document only.
    const report = flags.json ? io.stderr : io.stdout;
    if (result.plan !== plan) report.write(`${backend.display} changed since the plan was made; applied the plan computed afresh.\n`);
    if (result.initialized) report.write(`Initialised ${backend.display} with the vantage6 ${NEWEST_RELEASE} schema.\n`);
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
  }
}
