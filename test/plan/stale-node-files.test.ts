import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import type { DesiredState } from '../../src/federation.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { staleNodeFiles } from '../../src/plan/stale-node-files.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';

const TARGET = { engine: 'sqlite' as const, display: 'sqlite:///test.sqlite', initialize: false };
const examples = path.dirname(EXAMPLE_CONFIG);

async function desiredOf(files: string[]): Promise<DesiredState> {
  const { desired, diagnostics } = validateConfig(await loadConfig(files.map((f) => path.join(examples, f))), {});
  assert.ok(desired, JSON.stringify(diagnostics));
  return desired;
}

/** The example applied as it is, with its stores linked as `stores` says (none: no store linked yet). */
function liveOf(desired: DesiredState, stores: DesiredState['algorithmStores']): LiveState {
  const fresh = freshState();
  let id = 0;
  const withId = <T>(item: T): T & { id: number } => ({ ...item, id: ++id });
  return {
    ...fresh,
    organizations: desired.organizations.map(withId),
    collaborations: desired.collaborations.map(withId),
    nodes: desired.nodes.map(withId),
    algorithmStores: stores.map((store) => {
      const rows = (store.everyCollaboration ? [null] : store.collaborations).map((collaboration) => ({ id: ++id, collaboration }));
      return { ...store, id: rows[0]?.id ?? ++id, rows };
    }),
  };
}

describe('node files made stale by a plan', () => {
  it('are those of the collaborations whose stores change, unless the plan writes them anew; only where node files are written', async () => {
    const linked = await desiredOf(['federation.yaml', 'encrypted.yaml', 'algorithm-stores.yaml']);
    const live = liveOf(linked, []);
    const plan = computePlan(linked, live, TARGET);
    assert.deepEqual(staleNodeFiles(plan, linked, live), [
      'IKNL - Colorectal Cancer Survival Node', 'IKNL - Rare Tumours Registry Node', 'Maastricht UMC+ - Colorectal Cancer Survival Node',
      'Oslo University Hospital - Rare Tumours Registry Node', 'charite-crc-node',
    ]);
    // A node whose key the plan rotates gets its new file: not stale.
    const rotating = computePlan(linked, live, TARGET, { ...DEFAULT_PLAN_OPTIONS, rotateNodeKeys: ['IKNL/Colorectal Cancer Survival'] });
    assert.ok(!staleNodeFiles(rotating, linked, live).includes('IKNL - Colorectal Cancer Survival Node'));
    // Stores as they are: nothing stale; without encrypted secrets no node file is written at all.
    const same = liveOf(linked, linked.algorithmStores);
    assert.deepEqual(staleNodeFiles(computePlan(linked, same, TARGET), linked, same), []);
    const plaintext = await desiredOf(['federation.yaml', 'algorithm-stores.yaml']);
    assert.deepEqual(staleNodeFiles(computePlan(plaintext, live, TARGET), plaintext, live), []);

    const text = renderPlanText({ ...plan, staleNodeFiles: ['charite-crc-node'] }, { color: false, showUnmanaged: false, showAccess: false });
    assert.match(text, /! The files of "charite-crc-node" name their collaboration's algorithm stores as they were: .* fedctl apply CONFIG --rotate-node-key "charite-crc-node"/);
  });
});
