import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { exportConfig } from '../../src/export/export-config.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';

const READ = 'https://store.example.org/api';
const LINKED_ONLY = 'https://community.example.org/api';

/** A 4.15 server linking two stores; the first one's roles, users and policies read (as `export --store` reads them). */
function live(): LiveState {
  const fresh = freshState();
  return {
    ...fresh,
    organizations: [...fresh.organizations, { id: 2, name: 'Zorg & Co!', domain: null, address1: null, address2: null, zipcode: null, country: null }],
    collaborations: [{ id: 1, name: 'Trial "1" 🧪', encrypted: false, members: ['Zorg & Co!'] }],
    users: [{ id: 2, username: 'anna', organization: 'Zorg & Co!', firstname: null, lastname: null, email: null, enabled: true, roles: [], rules: [] }],
    algorithmStores: [
      { id: 1, url: READ, name: 'مخزن ${not a variable}', everyCollaboration: false, collaborations: ['Trial "1" 🧪'], rows: [{ id: 1, collaboration: 'Trial "1" 🧪' }] },
      { id: 2, url: LINKED_ONLY, name: 'community.example.org', everyCollaboration: true, collaborations: [], rows: [{ id: 2, collaboration: null }] },
    ],
    storeRoles: [
      { id: 1, store: READ, name: 'Reviewer', description: 'built in', rules: ['algorithm:view', 'review:edit'], isDefault: true },
      { id: 9, store: READ, name: 'Approver ✓ & co', description: 'Approves "reviewed" algorithms', rules: ['algorithm:view', 'review:edit', 'review:view'], isDefault: false },
    ],
    storeUsers: [
      { id: 1, store: READ, username: 'root', roles: ['Root'], account: true },
      { id: 2, store: READ, username: 'anna', roles: ['Approver ✓ & co', 'Reviewer'] },
    ],
    storePolicies: [{ store: READ, policies: { algorithm_view: 'whitelisted', min_reviewers: 2, allowed_reviewers: ['anna'], algorithms_open: 'true' } }],
  };
}

describe('export of algorithm stores', () => {
  it('adopts a store that was read: its own roles, users but fedctl\'s account, policies the config can name; the others as links', () => {
    const { config, skipped } = exportConfig(live());
    const stores = config.algorithm_stores as Record<string, unknown>[];
    assert.deepEqual(stores[0], {
      url: READ, name: 'مخزن $${not a variable}', collaborations: ['Trial "1" 🧪'],
      roles: [{ name: 'Approver ✓ & co', description: 'Approves "reviewed" algorithms', rules: [{ resource: 'algorithm', operation: 'view' }, { resource: 'review', operation: ['edit', 'view'] }] }],
      users: [{ username: 'anna', roles: ['Approver ✓ & co', 'Reviewer'] }],
      policies: { algorithm_view: 'whitelisted', min_reviewers: 2, allowed_reviewers: ['anna'] },
    });
    assert.deepEqual(stores[1], { url: LINKED_ONLY, collaborations: 'all' });
    assert.deepEqual(skipped, [{ what: `policy algorithms_open of store "${READ}"`, reason: 'a config cannot name it for this store\'s line' }]);
  });

  it('export then plan: the exported config plans no changes to the stores', async () => {
    const state = live();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fedctl-export-stores-')), 'adopted.yaml');
    writeFileSync(file, stringify(exportConfig(state).config));
    const { desired, diagnostics } = validateConfig(await loadConfig([file]), {});
    assert.ok(desired, diagnostics.map((d) => d.message).join('\n'));
    const plan = computePlan(desired, state, { engine: 'api', display: 'https://v6.example.org/api', initialize: false });
    assert.deepEqual(plan.changes, []);
    assert.equal(plan.policyDrift, undefined);
  });
});
