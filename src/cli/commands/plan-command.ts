import { databaseIsAbsent, openDatabase } from '../../db/open-database.js';
import { resolveDatabase } from '../../db/resolve-database.js';
import { computePlan } from '../../plan/compute-plan.js';
import { planHasChanges, type Plan } from '../../plan/plan.js';
import { renderPlanText } from '../../render/render-plan-text.js';
import { absentLiveState, loadLiveState } from '../../state/load-live-state.js';
import type { DesiredState } from '../../federation.js';
import type { DatabaseTarget } from '../../db/database-url.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_CHANGES, EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import { loadDesiredState } from '../load-desired.js';

export interface PlanFlags extends DatabaseFlags {
  readonly detailedExitcode?: boolean;
  readonly showUnmanaged?: boolean;
  readonly color: boolean;
}

/** Plan against the live database, read-only: a missing SQLite file is not created. */
export async function planAgainst(target: DatabaseTarget, desired: DesiredState, lockTimeoutMs: number): Promise<Plan> {
  if (databaseIsAbsent(target)) {
    const { live, initialize } = absentLiveState();
    return computePlan(desired, live, { engine: target.engine, display: target.display, initialize });
  }
  const adapter = await openDatabase(target, { readonly: true, lockTimeoutMs });
  try {
    const { live, initialize } = await loadLiveState(adapter);
    return computePlan(desired, live, { engine: target.engine, display: target.display, initialize });
  } finally {
    await adapter.close();
  }
}

/** `fedctl plan`: what apply would change; writes nothing, anywhere. */
export async function planCommand(paths: readonly string[], flags: PlanFlags, io: CliIo): Promise<number> {
  const desired = await loadDesiredState(paths, io);
  const { target } = resolveDatabase(flags, io.env, io.cwd);
  const plan = await planAgainst(target, desired, flags.lockTimeout * 1000);
  io.stdout.write(renderPlanText(plan, { color: useColor(io.stdout, io.env, flags.color), showUnmanaged: flags.showUnmanaged ?? false }));
  return flags.detailedExitcode && planHasChanges(plan) ? EXIT_CHANGES : EXIT_OK;
}
