import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { load } from 'js-yaml';
import { runCli } from '../helpers/run-cli.js';

describe('fedctl store-policies', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-store-policies-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (release: string): string => {
    const file = path.join(dir, `federation-${release}.yaml`);
    writeFileSync(file, `vantage6: "${release}"
collaborations: []
algorithm_stores:
  - url: https://algorithms.iknl.nl/api   # reviewed & approved
    collaborations: all
    policies: { algorithm_view: private, min_reviewers: 3, min_reviewing_organizations: 2 }
  - url: https://store.example.org:8443/store/api
    collaborations: all
`);
    return file;
  };

  it('writes, offline, one file per store with policies: the 4.x store configuration\'s block', async () => {
    const out = path.join(dir, 'v4');
    const result = await runCli(['store-policies', config('4.15'), '--out', out], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(out), ['algorithms.iknl.nl_api.yaml']);
    assert.deepEqual(load(readFileSync(path.join(out, 'algorithms.iknl.nl_api.yaml'), 'utf8')), {
      policies: { algorithm_view: 'private', min_reviewers: 3, min_reviewing_organizations: 2 },
    });
  });

  it('for vantage6 5, the store chart\'s Helm values; printed without --out', async () => {
    const result = await runCli(['store-policies', config('5.0')], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(load(result.stdout.replace(/---\n$/, '')), { store: { policies: { algorithmView: 'private', minReviewers: 3, minReviewingOrganizations: 2 } } });
  });
});
