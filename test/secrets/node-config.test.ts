import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
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
