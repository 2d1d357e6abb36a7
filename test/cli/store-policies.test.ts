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
  const config = (release: string, server = 'server: { url: "https://v6.example.org", api_path: /api }\n'): string => {
    const file = path.join(dir, `federation-${release}.yaml`);
    writeFileSync(file, `vantage6: "${release}"
${server}collaborations: []
algorithm_stores:
  - url: https://algorithms.iknl.nl/api   # reviewed & approved
    collaborations: all
    policies: { algorithm_view: private, min_reviewers: 3, min_reviewing_organizations: 2, allowed_reviewers: ["anna.o'brien", "李.wei"] }
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
      policies: {
        algorithm_view: 'private', min_reviewers: 3, min_reviewing_organizations: 2,
        // A 4.x store names each user with the server it whitelisted: the config's server:.
        allowed_reviewers: [{ username: "anna.o'brien", server: 'https://v6.example.org/api' }, { username: '李.wei', server: 'https://v6.example.org/api' }],
      },
    });
  });

  it('refuses, for a 4.x store, users of a policy when the config names no server to name them with', async () => {
    const result = await runCli(['store-policies', config('4.15', '')], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /a 4\.x store names the users of allowed_reviewers with their server, and the config names no server/);
    assert.match(result.stderr, /add server: \{ url: … \}/);
  });

  it('for vantage6 5, the store chart\'s Helm values; printed without --out', async () => {
    const result = await runCli(['store-policies', config('5.0')], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(load(result.stdout.replace(/---\n$/, '')), {
      store: { policies: { algorithmView: 'private', minReviewers: 3, minReviewingOrganizations: 2, allowedReviewers: ["anna.o'brien", '李.wei'] } },
    });
  });
});
