import { writeFile } from 'node:fs/promises';
import { databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import type { DatabaseTarget } from '../../db/database-url.js';
import { resolveDatabase } from '../../db/resolve-database.js';
import { FedctlError, messageOf } from '../../errors.js';
import type { DesiredState } from '../../federation.js';
import { computePlan } from '../../plan/compute-plan.js';
import { planHistory } from '../../history/apply-history.js';
import { fingerprintAdministration, fingerprintConfig, fingerprintState } from '../../plan/fingerprint.js';
import type { PlanOptions } from '../../plan/plan-options.js';
import { planHasChanges, planRefusals, type Plan } from '../../plan/plan.js';
import type { SavedPlan } from '../../plan/saved-plan.js';
import { renderPlanMarkdown } from '../../render/render-plan-markdown.js';
import { renderPlanText } from '../../render/render-plan-text.js';
import { absentLiveState, loadLiveState, type LoadedLiveState } from '../../state/load-live-state.js';
import { liveProfile, type LiveState } from '../../state/live-state.js';
import { EXIT_CHANGES, EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import { checkConfig } from '../load-desired.js';
import { loadConfig } from '../../config/load-config.js';
import { planOptionsFrom, type PlanFlags } from '../plan-flags.js';

export interface PlanCommandFlags extends PlanFlags {
  /** `-o FILE`: save the plan for a later `fedctl apply FILE`. */
  readonly out?: string;
}

/** Read the live state, read-only: a missing SQLite file is not created (it reads as a fresh database). */
export async function readLive(target: DatabaseTarget, lockTimeoutMs: number): Promise<LoadedLiveState> {
  if (databaseIsAbsent(target)) return absentLiveState();
  const adapter = await openDatabase(target, { readonly: true, lockTimeoutMs });
  try {
    return await loadLiveState(adapter);
  } finally {
    await adapter.close();
  }
}

/** Plan against the live database, read-only. */
export async function planAgainst(target: DatabaseTarget, desired: DesiredState, options: PlanOptions, lockTimeoutMs: number): Promise<{ plan: Plan; live: LiveState }> {
  return planFrom(target, desired, options, await readLive(target, lockTimeoutMs), desired.history);
}

/** The plan for a live state already read, with what the history says about it. */
export function planFrom(target: DatabaseTarget, desired: DesiredState, options: PlanOptions, { live, initialize, lastApply }: LoadedLiveState, recording: boolean): { plan: Plan; live: LiveState } {
  const plan = computePlan(desired, live, { engine: target.engine, display: target.display, initialize }, options);
  return { plan: { ...plan, history: planHistory(lastApply, () => fingerprintAdministration(live), recording) }, live };
}

/**
 * Load the config and read the database at the same time: the database
 * works on its queries while the config is parsed. The config is then
 * checked against the database's own rule catalogue and features. Config
 * errors are reported first, also when the database cannot be read.
 */
export async function loadAndRead(paths: readonly string[], target: DatabaseTarget, flags: PlanFlags, io: CliIo): Promise<{ desired: DesiredState; state: LoadedLiveState }> {
  const reading = readLive(target, flags.lockTimeout * 1000);
  reading.catch(() => undefined);
  const loaded = await loadConfig(paths);
  const quiet = flags.json ?? false;
  let state: LoadedLiveState;
  try {
    state = await reading;
  } catch (error) {
    checkConfig(loaded, io, { quiet });
    throw error;
  }
  const { desired } = checkConfig(loaded, io, { quiet, server: liveProfile(state.live) });
  return { desired, state };
}

/** Show a plan as the flags ask: JSON, Markdown or text. */
export function showPlan(plan: Plan, flags: PlanFlags, io: CliIo): void {
  if (flags.json) io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else if (flags.markdown) io.stdout.write(renderPlanMarkdown(plan));
  else io.stdout.write(renderPlanText(plan, { color: useColor(io.stdout, io.env, flags.color), showUnmanaged: flags.showUnmanaged ?? false }));
}

/** `fedctl plan`: what apply would change; writes nothing but the `-o` file. */
export async function planCommand(paths: readonly string[], flags: PlanCommandFlags, io: CliIo): Promise<number> {
  const { target } = resolveDatabase(flags, io.env, io.cwd);
  const { desired, state } = await loadAndRead(paths, target, flags, io);
  const { plan, live } = planFrom(target, desired, planOptionsFrom(flags, desired), state, desired.history);
  showPlan(plan, flags, io);
  if (flags.out) {
    const saved: SavedPlan = {
      fedctlSavedPlan: 1,
      createdAt: new Date().toISOString(),
      stateFingerprint: fingerprintState(live),
      configFingerprint: fingerprintConfig(desired),
      plan,
      secrets: desired.secrets,
    };
    try {
      await writeFile(flags.out, `${JSON.stringify(saved, null, 2)}\n`);
    } catch (error) {
      throw new FedctlError('CONFIG_UNREADABLE', `cannot write the plan to ${flags.out}: ${messageOf(error)}`);
    }
    if (!flags.json) io.stderr.write(`Saved the plan to ${flags.out}; apply it with: fedctl apply ${flags.out}\n`);
  }
  const refusals = planRefusals(plan, flags.allowDestroy ?? false);
  for (const refusal of refusals) io.stderr.write(`Error: ${refusal}\n`);
  if (refusals.length > 0) return EXIT_ERROR;
  return flags.detailedExitcode && planHasChanges(plan) ? EXIT_CHANGES : EXIT_OK;
}
