import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { HQ_MINOR } from '../../src/catalog/vantage6-versions.js';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { NO_PRUNING, type DesiredState } from '../../src/federation.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { storesDeletingUsers } from '../../src/plan/unlinked-store-users.js';
import { renderPlanMarkdown } from '../../src/render/render-plan-markdown.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';

const TARGET = { engine: 'api' as const, display: 'https://v6.example.org/api', initialize: false };
const examples = path.dirname(EXAMPLE_CONFIG);
const PRUNING_STORES = { ...DEFAULT_PLAN_OPTIONS, prune: { ...NO_PRUNING, algorithm_store: true } };

async function desiredOf(files: string[]): Promise<DesiredState> {
  const { desired, diagnostics } = validateConfig(await loadConfig(files.map((f) => path.join(examples, f))), {});
  assert.ok(desired, JSON.stringify(diagnostics));
  return desired;
}

/** The example's organizations and collaborations, with its stores linked, on a server of `minor` reached through its API (which unlinks). */
function liveOf(desired: DesiredState, stores: DesiredState['algorithmStores'], minor?: number): LiveState {
  const fresh = freshState();
  let id = 0;
  const withId = <T>(item: T): T & { id: number } => ({ ...item, id: ++id });
  return {
    ...fresh,
    server: { ...fresh.server, limits: [], ...(minor === undefined ? {} : { versions: { from: minor, to: minor } }) },
    organizations: desired.organizations.map(withId),
    collaborations: desired.collaborations.map(withId),
    algorithmStores: stores.map((store) => ({ ...store, id: ++id, rows: (store.everyCollaboration ? [null] : store.collaborations).map((collaboration) => ({ id: ++id, collaboration })) })),
  };
}

describe('stores that delete their users when a plan unlinks them', () => {
  it('are the 4.x stores a plan prunes; a vantage6 5 store keeps its users (they are Keycloak\'s); the note says how fedctl\'s account manages the store again', async () => {
    const linked = await desiredOf(['federation.yaml', 'algorithm-stores.yaml']);
    const without = await desiredOf(['federation.yaml']);
    const live = liveOf(linked, linked.algorithmStores);
    // Left out but not pruned: nothing is unlinked.
    assert.deepEqual(storesDeletingUsers(computePlan(without, live, TARGET), live), []);
    const pruning = computePlan(without, live, TARGET, PRUNING_STORES);
    assert.deepEqual(storesDeletingUsers(pruning, live), ['https://algorithms.iknl.nl/api', 'https://store.cotopaxi.vantage6.ai/api']);
    const hq = liveOf(linked, linked.algorithmStores, HQ_MINOR);
    assert.deepEqual(storesDeletingUsers(computePlan(without, hq, TARGET, PRUNING_STORES), hq), []);

    const plan = { ...pruning, storesDeletingUsers: ['https://algorithms.iknl.nl/api'] };
    assert.match(renderPlanText(plan, { color: false, showUnmanaged: false, showAccess: false }),
      /! Unlinking https:\/\/algorithms\.iknl\.nl\/api makes the store delete its users of this server with their store roles, fedctl's account too when it is the store's root\. To link it again and manage its users, restart the store before linking it/);
    assert.match(renderPlanMarkdown(plan, { configs: ['federation.yaml'], madeAt: new Date(0), commit: null }), /> \[!WARNING\]\n> Unlinking https:\/\/algorithms\.iknl\.nl\/api makes the store delete its users/);
  });
});
