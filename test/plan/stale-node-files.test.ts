import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import type { DesiredState, NodePolicies } from '../../src/federation.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../../src/plan/plan-options.js';
import { staleNodeFiles } from '../../src/plan/stale-node-files.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { nodePoliciesDigest } from '../../src/secrets/node-config.js';
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
    const none = new Map<string, string>();
    assert.deepEqual(staleNodeFiles(plan, linked, live, none), [
      'IKNL - Colorectal Cancer Survival Node', 'IKNL - Rare Tumours Registry Node', 'Maastricht UMC+ - Colorectal Cancer Survival Node',
      'Oslo University Hospital - Rare Tumours Registry Node', 'charite-crc-node',
    ]);
    // A node whose key the plan rotates gets its new file: not stale.
    const rotating = computePlan(linked, live, TARGET, { ...DEFAULT_PLAN_OPTIONS, rotateNodeKeys: ['IKNL/Colorectal Cancer Survival'] });
    assert.ok(!staleNodeFiles(rotating, linked, live, none).includes('IKNL - Colorectal Cancer Survival Node'));
    // Stores as they are: nothing stale; without encrypted secrets no node file is written at all.
    const same = liveOf(linked, linked.algorithmStores);
    assert.deepEqual(staleNodeFiles(computePlan(linked, same, TARGET), linked, same, none), []);
    assert.deepEqual(staleNodeFiles(computePlan(linked, live, TARGET), linked, live, null), [], 'no node files written');

    const text = renderPlanText({ ...plan, staleNodeFiles: ['charite-crc-node'] }, { color: false, showUnmanaged: false, showAccess: false });
    assert.match(text, /! The files of "charite-crc-node" carry other policies than the config gives the nodes now .* fedctl apply CONFIG --rotate-node-key "charite-crc-node"/);
  });

  it('are, where fedctl noted what each file was written with, those whose policies the config has changed since, also after the apply that changed them', async () => {
    const linked = await desiredOf(['federation.yaml', 'encrypted.yaml', 'algorithm-stores.yaml']);
    // bram.jansen has id 12 at the server.
    const BRAM = 'bram.jansen';
    const live = { ...liveOf(linked, linked.algorithmStores), users: linked.users.map((user, i) => ({ ...user, id: user.username === BRAM ? 12 : 100 + i })) };
    const node = 'charite-crc-node';
    const collaboration = linked.nodes.find((n) => n.name === node)?.collaboration ?? '';
    const stores = linked.secrets.nodeStores?.[collaboration] ?? [];
    const noted = (policies?: NodePolicies, ids: Record<string, number> = {}): Map<string, string> => new Map([[node, nodePoliciesDigest({
      algorithmStores: stores, ...(policies === undefined ? {} : { policies }),
      ...(policies?.allowedUsers === undefined ? {} : { allowedUsers: policies.allowedUsers.map((username) => ({ username, id: ids[username] ?? 0 })) }),
    }, 'v4')]]);
    const plan = computePlan(linked, live, TARGET);
    // Written as the config says: not stale, though the plan does not touch its stores.
    assert.deepEqual(staleNodeFiles(plan, linked, live, noted()), []);
    // The config gives it policies it was not written with: stale, with no store changed.
    const strict: NodePolicies = { allowedAlgorithms: ['harbor2.vantage6.ai/demo/average'], allowedUsers: [BRAM] };
    const tightened = { ...linked, secrets: { ...linked.secrets, nodePolicies: { [node]: strict } } };
    assert.deepEqual(staleNodeFiles(computePlan(tightened, live, TARGET), tightened, live, noted()), [node]);
    // Written with them (the user by the id the server gave): not stale; the user made anew under another id: stale.
    assert.deepEqual(staleNodeFiles(computePlan(tightened, live, TARGET), tightened, live, noted(strict, { [BRAM]: 12 })), []);
    assert.deepEqual(staleNodeFiles(computePlan(tightened, live, TARGET), tightened, live, noted(strict, { [BRAM]: 7 })), [node]);
  });
});
