// Build step: compile schemas/federation.schema.json into a standalone
// validation module, so that fedctl does not compile the schema at every start.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const schema = JSON.parse(readFileSync(new URL('../schemas/federation.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  verbose: true,
  code: { source: true, esm: true },
});
const validate = ajv.compile(schema);
// ajv's ESM output still requires its runtime helpers; give the module a require.
const prelude = 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);\n';
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/federation-validator.js', import.meta.url), prelude + standaloneCode.default(ajv, validate));
