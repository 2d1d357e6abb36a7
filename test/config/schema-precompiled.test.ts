import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ValidateFunction } from 'ajv';
import { PRECOMPILED_VALIDATOR as PRECOMPILED, compileSchemaValidator } from '../../src/config/schema-check.js';
import { propertyRuns } from '../helpers/property-runs.js';

describe('the schema validator precompiled at build time', () => {
  it('exists after the build, and judges every document as the schema compiled at run time does', async (t) => {
    if (!existsSync(PRECOMPILED)) {
      t.skip('dist/ is not built: run npm run build (npm test does)');
      return;
    }
    const precompiled = ((await import(PRECOMPILED.href)) as { default: ValidateFunction }).default;
    const runtime = await compileSchemaValidator();
    const summary = (validate: ValidateFunction, value: unknown) => {
      const valid = validate(value);
      return { valid, errors: (validate.errors ?? []).map((e) => [e.keyword, e.instancePath, e.schemaPath, e.params]) };
    };
    const documents = [
      { organizations: [{ name: 'A', contry: 'x' }], users: [{ username: 'a', organization: 5, email: 'no' }] },
      { collaborations: [{ name: ' C', encrypted: 'yes', members: [{ organization: 'A', node: 'x' }] }] },
      { roles: [{ name: 'R', rules: [{ resource: 'nodes', scope: ['org', 'everywhere'], operation: 'all' }] }], prune: { users: 1 } },
      { version: 2, studies: [{ name: 'S' }] },
    ];
    for (const document of documents) assert.deepEqual(summary(precompiled, document), summary(runtime, document));
    fc.assert(fc.property(fc.anything(), (value) => {
      assert.deepEqual(summary(precompiled, value), summary(runtime, value));
    }), propertyRuns(300));
  });
});
