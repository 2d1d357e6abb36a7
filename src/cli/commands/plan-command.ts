import { writeFile } from 'node:fs/promises';
import type { Backend, LoadedLiveState } from '../../backends/backend.js';
import { chooseBackend, chooseOther, openBackend, withConfigChoice, type BackendChoice } from '../../backends/open-backend.js';
import { accessAcrossServers } from '../../access/line-access.js';
import { describeRange } from '../../catalog/vantage6-versions.js';
import { withComponents } from '../../components/with-components.js';
import { keptUsersOf } from '../../components/keycloak/keycloak-users.js';
import { FedctlError, messageOf } from '../../errors.js';
import type { DesiredState } from '../../federation.js';
import { computePlan } from '../../plan/compute-plan.js';
import { assessPlan } from '../../policy/assess-plan.js';
import { requiresTwoFactor } from '../../policy/guardrails.js';
import { storesDeletingUsers } from '../../plan/unlinked-store-users.js';
import { NO_HISTORY_KEPT, planHistory } from '../../history/apply-history.js';
import { ciProvenance } from '../../history/provenance.js';
import { fingerprintAdministration, fingerprintConfig } from '../../plan/fingerprint.js';
import type { PlanOptions } from '../../plan/plan-options.js';
import { planForOutput, planHasChanges, planRefusals, type AdaptedFrom, type Plan } from '../../plan/plan.js';
import type { SavedPlan } from '../../plan/saved-plan.js';
import { renderPlanMarkdown } from '../../render/render-plan-markdown.js';
import { renderPlanText } from '../../render/render-plan-text.js';
import { liveProfile, type LiveState } from '../../state/live-state.js';
import { EXIT_CHANGES, EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import { checkConfig } from '../load-desired.js';
import { loadConfig } from '../../config/load-config.js';
import { documentsForMove } from '../../config/move-documents.js';
import { adaptDesiredToFive } from '../../adapt/adapt-desired.js';
import { locateAdaptations } from '../../adapt/adapted-entity-paths.js';
import { describeServer } from '../../catalog/server-profile.js';
import { storeUrlMap } from '../store-options.js';
import { configuredApi, configuresPruning } from '../../config/validate-config.js';
import { planOptionsFrom, type PlanFlags } from '../plan-flags.js';
import { secretsStoreFor, withRecipients, withStaleNodeFiles, withUnrecordedKeys } from '../secrets-options.js';

export interface PlanCommandFlags extends PlanFlags {
  /** `-o FILE`: save the plan for a later `fedctl apply FILE`. */
  readonly out?: string;
  /** `--compare-with URL`: the server a federation moves from, whose users' access the plan compares with this one's after it. */
  readonly compareWith?: string;
}

/** The plan with each user's access on the other server against this one's after it. */
async function withAccessAcross(plan: Plan, live: LiveState, url: string, flags: PlanFlags, io: CliIo): Promise<Plan> {
  const other = await openBackend(chooseOther(url, io.cwd), io.env);
  const read = await other.read({ lockTimeoutMs: flags.lockTimeout * 1000, forDeletes: false });
  if (read.initialize) throw new FedctlError('DATABASE_MISSING', `--compare-with ${other.display} has no vantage6 database`, 'give the database or API URL of the server the federation moves from');
  const server = read.live.server;
  const changes = accessAcrossServers(read.live, live, plan) ?? { users: 0, groups: [] };
  return { ...plan, accessAcross: { server: other.display, vantage6: server.release ?? describeRange(server.versions), ...changes } };
}

/** The config, the live state, and the backend it was read through; with `--for 5.0`, what the config was adapted in. */
export interface LoadedAndRead {
  readonly desired: DesiredState;
  readonly state: LoadedLiveState;
  readonly backend: Backend;
  readonly adaptedFrom?: AdaptedFrom;
  /** The config files the secrets store is beside by default: under `--for 5.0`, HQ's own (HQ's secrets are not the 4.x server's). */
  readonly secretsBeside: readonly string[];
}

/**
 * Load the config and read the live state. A database is read while the
 * config is parsed; a server's API once the config is parsed, as the config
 * may name it (and what it reads may depend on whether anything is pruned).
 * The config is then checked against the server's own rule catalogue and
 * features, or, a 4.x config planned for vantage6 5 (`--for 5.0`), against
 * its own release and then adapted. Config errors are reported first, also
 * when the server cannot be read; `beforeConnecting` refuses a way in that
 * the flags do not fit.
 */
export async function loadAndRead(paths: readonly string[], flags: PlanFlags, io: CliIo, beforeConnecting: (choice: BackendChoice) => void = () => undefined): Promise<LoadedAndRead> {
  const storeUrls = storeUrlMap(flags.storeUrl);
  if (flags.for === undefined && storeUrls.size > 0) throw new FedctlError('CONFIG_INVALID', '--store-url is for --for 5.0 only', 'add --for 5.0, or leave it out');
  const chosen = chooseBackend(flags, io.env, io.cwd);
  const lockTimeoutMs = flags.lockTimeout * 1000;
  const early = chosen.kind === 'database' ? chosen.backend.read({ lockTimeoutMs, forDeletes: true }) : null;
  early?.catch(() => undefined);
  const given = await loadConfig(paths);
  const move = flags.for === undefined ? null : documentsForMove(given);
  const loaded = move?.loaded ?? given;
  const quiet = flags.json ?? false;
  const choice = withConfigChoice(chosen, configuredApi(move?.hq ?? loaded.documents));
  beforeConnecting(choice);
  let backend: Backend;
  let state: LoadedLiveState;
  try {
    if (choice.kind === 'database' && early !== null) {
      backend = choice.backend;
      state = await early;
    } else {
      backend = await openBackend(choice, io.env);
      state = await backend.read({ lockTimeoutMs, forDeletes: flags.prune.length > 0 || configuresPruning(loaded.documents) });
    }
  } catch (error) {
    checkConfig(loaded, io, { quiet });
    throw error;
  }
  const server = liveProfile(state.live);
  let desired: DesiredState;
  let adaptedFrom: AdaptedFrom | undefined;
  if (move === null) {
    desired = checkConfig(loaded, io, { quiet, server }).desired;
  } else {
    // The 4.x files are checked against the release they declare (the files declaring vantage6 5 were set apart).
    const four = checkConfig(loaded, io, { quiet });
    if (!server.keycloak) {
      throw new FedctlError('CONFIG_INVALID', `--for 5.0 plans for vantage6 5, but ${backend.display} is ${describeServer(server)}`, 'point --server at vantage6 5\'s HQ, or leave --for out');
    }
    const adapted = adaptDesiredToFive(four.desired, four.server, { storeUrls, owned: state.live.server.owned });
    desired = adapted.desired;
    adaptedFrom = { vantage6: describeRange(four.server.versions), adaptations: locateAdaptations(adapted.adaptations, loaded.documents, storeUrls) };
  }
  // What Keycloak keeps of the users, and the stores' own users, roles and policies, join the server's state; a backend that reaches them all applies the plan.
  const components = await withComponents(backend, {
    ...desired, keptUsers: desired.users, readsTwoFactor: requiresTwoFactor(desired.policy), prune: planOptionsFrom(flags, desired).prune,
  }, io.env);
  const hqFiles = move?.hq.map((document) => document.file) ?? [];
  return {
    desired, state: await components.addTo(state), backend: components.backend, ...(adaptedFrom === undefined ? {} : { adaptedFrom }),
    secretsBeside: hqFiles.length > 0 ? hqFiles : paths,
  };
}

/** The plan for a live state already read through a backend, with what its history says. */
export function planFrom(backend: Backend, desired: DesiredState, options: PlanOptions, { live, initialize, lastApply }: LoadedLiveState, recording: boolean, adaptedFrom?: AdaptedFrom): { plan: Plan; live: LiveState } {
  const plan = assessPlan(computePlan(desired, live, { engine: backend.kind, display: backend.display, initialize }, options), live, desired.policy);
  const history = backend.capabilities.history ? planHistory(lastApply, () => fingerprintAdministration(live), recording) : NO_HISTORY_KEPT;
  const forgetting = storesDeletingUsers(plan, live);
  return { plan: { ...plan, history, ...(forgetting.length > 0 ? { storesDeletingUsers: forgetting } : {}), ...(adaptedFrom === undefined ? {} : { adaptedFrom }) }, live };
}

/** Show a plan of the configs at `paths` as the flags ask: JSON, Markdown (a comment that says when and for what) or text. */
export function showPlan(plan: Plan, paths: readonly string[], flags: PlanFlags, io: CliIo): void {
  if (flags.json) io.stdout.write(`${JSON.stringify(planForOutput(plan, flags.showAccess ?? false), null, 2)}\n`);
  else if (flags.markdown) io.stdout.write(renderPlanMarkdown(plan, { configs: paths, madeAt: new Date(), commit: ciProvenance(io.env)?.commit ?? null }));
  else io.stdout.write(renderPlanText(plan, { color: useColor(io.stdout, io.env, flags.color), showUnmanaged: flags.showUnmanaged ?? false, showAccess: flags.showAccess ?? false }));
}

/** `fedctl plan`: what apply would change; writes nothing but the `-o` file. */
export async function planCommand(paths: readonly string[], flags: PlanCommandFlags, io: CliIo): Promise<number> {
  const { desired, state, backend, adaptedFrom, secretsBeside } = await loadAndRead(paths, flags, io);
  const options = planOptionsFrom(flags, desired);
  const planned = planFrom(backend, desired, options, state, desired.history, adaptedFrom);
  const { live } = planned;
  // Keys a server makes can be lost to a kill before they are recorded, and node files go stale: the secrets stage noted what it wrote.
  const serverKeys = backend.capabilities.nodeKeys === 'server';
  const settings = withRecipients(desired.secrets, flags, io.env);
  const writesNodeFiles = settings.server !== null && settings.recipients.length > 0;
  const store = serverKeys || writesNodeFiles ? await secretsStoreFor(secretsBeside, settings, flags, io) : null;
  const withFiles = store === null ? planned.plan : await withStaleNodeFiles(serverKeys ? await withUnrecordedKeys(planned.plan, live, store) : planned.plan, desired, live, store);
  const plan = flags.compareWith === undefined ? withFiles : await withAccessAcross(withFiles, live, flags.compareWith, flags, io);
  showPlan(plan, paths, flags, io);
  if (flags.out) {
    const saved: SavedPlan = {
      fedctlSavedPlan: 1,
      createdAt: new Date().toISOString(),
      stateFingerprint: backend.fingerprint(live),
      configFingerprint: fingerprintConfig(desired),
      plan: planForOutput(plan, flags.showAccess ?? false),
      secrets: desired.secrets,
      stores: desired.managedStores,
      keptUsers: keptUsersOf(desired.users),
      ...(requiresTwoFactor(desired.policy) ? { readsTwoFactor: true } : {}),
      // Where the plan read Keycloak's identity providers, apply reads them too (the fingerprint covers them).
      ...(desired.identityProviders.length > 0 || options.prune.identity_provider ? { identityProviders: desired.identityProviders } : {}),
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
