import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostic.js';
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
  const configOf = (policies: string, release = '4.15', more = ''): string => {
    const file = path.join(dir, `federation-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `vantage6: "${release}"
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
${more}`);
    return file;
  };
  const located = (diagnostics: readonly Diagnostic[]): string[] => diagnostics.map(formatDiagnostic).map((l) => l.replace(/^.*?:(\d+:\d+) /, '$1 '));

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

  it('writes whether allowed_algorithms or the stores suffice, and (4.x) the basics algorithm; refuses the latter for vantage6 5 at its line', async () => {
    const STORE = 'algorithm_stores:\n  - { url: https://store.example.org/api, collaborations: all }\n';
    const either = `            allowed_algorithms: [harbor2.vantage6.ai/demo/average]
            allow_either_whitelist_or_store: true
            allow_basics_algorithm: false`;
    const { desired, diagnostics } = validateConfig(await loadConfig([configOf(either, '4.15', STORE)]), {});
    assert.deepEqual(located(diagnostics).filter((d) => !d.includes('is on this machine')), []);
    const policies = desired?.secrets.nodePolicies?.['zorg-node'];
    assert.deepEqual(policies, { allowedAlgorithms: ['harbor2.vantage6.ai/demo/average'], allowEitherWhitelistOrStore: true, allowBasicsAlgorithm: false });
    const input = { ...NODE, algorithmStores: ['https://store.example.org/api'], ...(policies ? { policies } : {}) };
    assert.deepEqual((parse(renderNodeConfig(input, 'v4')) as { policies: unknown }).policies, {
      allowed_algorithms: ['harbor2.vantage6.ai/demo/average'], allowed_algorithm_stores: ['https://store.example.org/api'],
      allow_either_whitelist_or_store: true, allow_basics_algorithm: false,
    });
    assert.match(renderNodeConfig(input, 'v4'), /# Either allowed_algorithms or allowed_algorithm_stores must allow an algorithm\.\n  allow_either_whitelist_or_store: true/);
    // vantage6 5: its nodes read allow_either_whitelist_or_store (their Helm values' node.policies), and have no basics algorithm policy.
    const hq = await loadConfig([configOf(either, '5.0', STORE)]);
    const refused = validateConfig(hq, {});
    assert.equal(refused.desired, null);
    assert.deepEqual(located(refused.diagnostics), [
      '15:37 collaborations[0].members[0].node.policies.allow_basics_algorithm: vantage6 5.0 nodes have no policy allow_basics_algorithm (it is a policy of 4.x\'s nodes) (remove it)',
      '17:45 collaborations[0].members[1].node.policies.allow_basics_algorithm: vantage6 5.0 nodes have no policy allow_basics_algorithm (it is a policy of 4.x\'s nodes) (remove it)',
    ]);
    const kept = validateConfig(await loadConfig([configOf(either.split('\n').slice(0, 2).join('\n'), '5.0', STORE)]), {});
    const hqPolicies = kept.desired?.secrets.nodePolicies?.['zorg-node'];
    const values = parse(renderNodeConfig({ ...input, ...(hqPolicies ? { policies: hqPolicies } : {}) }, 'hq')) as { node: { policies: Record<string, unknown> } };
    assert.equal(values.node.policies.allow_either_whitelist_or_store, true);
    assert.equal('allow_basics_algorithm' in values.node.policies, false);
  });

  it('warns where the node would read a policy as no limit: an empty list, or allowing either of two limits when one is missing', async () => {
    const lists = validateConfig(await loadConfig([configOf(`            allowed_algorithms: []
            allowed_users: []`)]), {});
    assert.deepEqual(located(lists.diagnostics).filter((d) => d.includes('members[0]')), [
      '13:33 warning: collaborations[0].members[0].node.policies.allowed_algorithms: the node reads an empty allowed_algorithms as no limit: every algorithm runs (list what it allows, or remove the key)',
      '14:28 warning: collaborations[0].members[0].node.policies.allowed_users: the node reads an empty allowed_users as no limit: every user of the collaboration may send it tasks (list what it allows, or remove the key)',
    ]);
    const noAlgorithms = validateConfig(await loadConfig([configOf('            allow_either_whitelist_or_store: true', '4.15', 'algorithm_stores:\n  - { url: https://store.example.org/api, collaborations: all }\n')]), {});
    assert.ok(located(noAlgorithms.diagnostics).includes(
      '13:46 warning: collaborations[0].members[0].node.policies.allow_either_whitelist_or_store: without allowed_algorithms, this lets the node run every algorithm, from any store (remove allow_either_whitelist_or_store, or give the node both limits)'));
    const noStores = validateConfig(await loadConfig([configOf(`            allowed_algorithms: [harbor2.vantage6.ai/demo/average]
            allow_either_whitelist_or_store: true`)]), {});
    assert.ok(located(noStores.diagnostics).includes(
      '14:46 warning: collaborations[0].members[0].node.policies.allow_either_whitelist_or_store: no algorithm store serves this collaboration: this lets the node run every algorithm, not only allowed_algorithms (remove allow_either_whitelist_or_store, or give the node both limits)'));
    assert.notEqual(noStores.desired, null, 'warnings only');
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
