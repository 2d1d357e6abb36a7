import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { formatDiagnostic } from '../../src/diagnostic.js';
import { renderNodeConfig, type NodeConfigInput } from '../../src/secrets/node-config.js';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';

const NODE: NodeConfigInput = {
  name: 'IKNL - Colorectal Cancer Survival Node', organization: 'IKNL', collaboration: 'Colorectal Cancer Survival', apiKey: 'k', encrypted: true,
  server: { url: 'https://v6.example.org', port: 443, apiPath: null, keycloak: null }, createdAt: '2026-12-03T00:00:00.000Z', algorithmStores: [],
};

describe('node files and the algorithm stores of their collaboration', () => {
  it('allow algorithms from the stores linked to the node\'s collaboration, as the server lists their URLs (HQ without the API\'s path)', async () => {
    const { desired } = validateConfig(await loadConfig([EXAMPLE_CONFIG, path.join(path.dirname(EXAMPLE_CONFIG), 'algorithm-stores.yaml')]), {});
    assert.deepEqual(desired?.secrets.nodeStores, {
      'Colorectal Cancer Survival': ['https://store.cotopaxi.vantage6.ai/api', 'https://algorithms.iknl.nl/api'],
      'Rare Tumours Registry': ['https://store.cotopaxi.vantage6.ai/api'],
    });
    const stores = desired?.secrets.nodeStores?.['Colorectal Cancer Survival'] ?? [];
    const v4 = parse(renderNodeConfig({ ...NODE, algorithmStores: stores }, 'v4')) as { policies: unknown };
    assert.deepEqual(v4.policies, { allowed_algorithm_stores: ['https://store.cotopaxi.vantage6.ai/api', 'https://algorithms.iknl.nl/api'] });
    const hq = parse(renderNodeConfig({ ...NODE, algorithmStores: stores }, 'hq')) as { node: { policies: unknown } };
    assert.deepEqual(hq.node.policies, { allowed_algorithm_stores: ['https://store.cotopaxi.vantage6.ai', 'https://algorithms.iknl.nl'] });
  });

  it('set no store policy when no store is linked: the node then takes algorithms from any store, as vantage6 does', () => {
    assert.equal('policies' in (parse(renderNodeConfig(NODE, 'v4')) as object), false);
    assert.equal('policies' in (parse(renderNodeConfig(NODE, 'hq')) as { node: object }).node, false);
  });
});

describe('node files and the node\'s own policies', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-node-policies-'));
  const configOf = (policies: string): string => {
    const file = path.join(dir, `federation-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `vantage6: "4.15"
organizations:
  - name: "Zorg & Co!"
  - name: 東京病院
  - name: Outsider
collaborations:
  - name: "Trial \\"α\\""
    members:
      - organization: "Zorg & Co!"
        node:
          name: zorg-node
          policies: &strict   # shared by anchor
${policies}
      - organization: 東京病院
        node: { name: tokyo-node, policies: *strict }
users:
  - { username: li.wei, organization: 東京病院 }
  - { username: anna, organization: "Zorg & Co!" }
`);
    return file;
  };

  it('writes what the config says, with the stores of its collaboration, in the keys 4.x and vantage6 5 nodes read', async () => {
    const file = configOf(`            allowed_algorithms:
              - harbor2.vantage6.ai/demo/average
              - ^harbor2\\.vantage6\\.ai/algorithms/.*$
              - ^registry\\-eu\\.example\\.org/stats$
            allowed_organizations: [東京病院, "Zorg & Co!"]
            allowed_users: [li.wei, anna]
            require_algorithm_pull: true`);
    const { desired, diagnostics } = validateConfig(await loadConfig([file]), {});
    assert.deepEqual(diagnostics, []);
    const policies = desired?.secrets.nodePolicies?.['tokyo-node'];
    assert.deepEqual(policies, {
      allowedAlgorithms: ['harbor2.vantage6.ai/demo/average', '^harbor2\\.vantage6\\.ai/algorithms/.*$', '^registry\\-eu\\.example\\.org/stats$'],
      allowedOrganizations: ['Zorg & Co!', '東京病院'], allowedUsers: ['anna', 'li.wei'], requireAlgorithmPull: true,
    });
    const allowedUsers = [{ username: 'anna', id: 7 }, { username: 'li.wei', id: 12 }];
    const stores = ['https://store.example.org/api'];
    const v4 = parse(renderNodeConfig({ ...NODE, algorithmStores: stores, ...(policies ? { policies } : {}), allowedUsers }, 'v4')) as { policies: unknown };
    assert.deepEqual(v4.policies, {
      allowed_algorithms: ['harbor2.vantage6.ai/demo/average', '^harbor2\\.vantage6\\.ai/algorithms/.*$', '^registry\\-eu\\.example\\.org/stats$'],
      allowed_algorithm_stores: ['https://store.example.org/api'], allowed_organizations: ['Zorg & Co!', '東京病院'],
      allowed_users: ['7', '12'], require_algorithm_pull: true,
    });
    const hq = parse(renderNodeConfig({ ...NODE, algorithmStores: stores, ...(policies ? { policies } : {}), allowedUsers }, 'hq')) as { node: { policies: Record<string, unknown> } };
    assert.deepEqual(hq.node.policies.allowed_users, ['7', '12']);
    assert.deepEqual(hq.node.policies.allowed_algorithm_stores, ['https://store.example.org']);
    assert.deepEqual(hq.node.policies.allowed_organizations, ['Zorg & Co!', '東京病院']);
  });

  it('refuses an unknown organization and a pattern the node reads as a regular expression that is not one; warns of an organization outside the collaboration', async () => {
    const file = configOf(`            allowed_algorithms: ["harbor2.vantage6.ai/demo/(average"]
            allowed_organizations: [Tokyo, Outsider]
            allowed_users: [li.wie]`);
    const { desired, diagnostics } = validateConfig(await loadConfig([file]), {});
    assert.equal(desired, null);
    // The second node shares the policies by an alias: its problems are told at the alias.
    const errors = (at: string, member: number): string[] => [
      `${at.split(' ')[0]} collaborations[0].members[${member}].node.policies.allowed_algorithms[0]: the node reads "harbor2.vantage6.ai/demo/(average" as a regular expression, and it is not one: … (escape the special characters of an image name (\\. for a dot), or write the image name without them)`,
      `${at.split(' ')[1]} collaborations[0].members[${member}].node.policies.allowed_organizations[0]: unknown organization "Tokyo" (declare it under organizations)`,
      `${at.split(' ')[2]} warning: collaborations[0].members[${member}].node.policies.allowed_organizations[1]: organization "Outsider" is not a member of "Trial \\"α\\"": its users cannot send this node tasks (add it to the collaboration's members, or remove it here)`,
      `${at.split(' ')[3]} collaborations[0].members[${member}].node.policies.allowed_users[0]: unknown user "li.wie" (did you mean "li.wei"?)`,
    ];
    assert.deepEqual(new Set(diagnostics.map(formatDiagnostic).map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 ').replace(/: Invalid regular expression.*? \(/, ': … ('))),
      new Set([...errors('13:34 14:37 14:44 15:29', 0), ...errors('17:45 17:45 17:45 17:45', 1)]));
  });
});
