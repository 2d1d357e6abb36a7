// docs/reference.md, generated from schemas/federation.schema.json so that the reference cannot drift from what fedctl
// validates: `node scripts/schema-reference.mjs` writes it; test/docs/docs-blocks.test.ts fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const SCHEMA = new URL('schemas/federation.schema.json', root);
const OUT = new URL('docs/reference.md', root);

/** A `$ref` within the schema, resolved (`#/$defs/name`), with the referring node's own description kept. */
function resolve(schema, node) {
  if (node === undefined || node.$ref === undefined) return node;
  const target = node.$ref.replace(/^#\//, '').split('/').reduce((at, key) => at[key], schema);
  return { ...resolve(schema, target), ...(node.description ? { description: node.description } : {}) };
}

/** A node's type as a reader takes it: `string`, `list of organization`, `true/false`, `one of: a, b`. */
function typeOf(schema, node) {
  const n = resolve(schema, node);
  if (n === undefined) return 'any';
  if (n.enum) return `one of: ${n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`;
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  const alternatives = n.anyOf ?? n.oneOf;
  if (alternatives) return alternatives.map((alt) => typeOf(schema, alt)).join(', or ');
  const type = Array.isArray(n.type) ? n.type.join(' or ') : n.type;
  if (type === 'array') return `list of ${typeOf(schema, n.items)}`;
  if (type === 'object') return n.properties ? 'mapping (fields below)' : 'mapping';
  if (type === 'boolean') return 'true or false';
  const limits = [n.pattern ? `pattern \`${n.pattern}\`` : '', n.minimum !== undefined ? `from ${n.minimum}` : '', n.maximum !== undefined ? `to ${n.maximum}` : '',
    n.maxLength !== undefined ? `at most ${n.maxLength} characters` : ''].filter(Boolean);
  return `${type ?? 'any'}${limits.length > 0 ? ` (${limits.join(', ')})` : ''}`;
}

const cell = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\n+/g, ' ');

/** The objects a node holds, directly or in its list's items or its alternatives, each with the path below which its fields are. */
function objectsIn(schema, node, path) {
  const n = resolve(schema, node);
  if (n === undefined) return [];
  if (n.properties) return [{ path, node: n }];
  if (n.type === 'array' || (Array.isArray(n.type) && n.type.includes('array'))) return objectsIn(schema, n.items, `${path}[]`);
  return (n.anyOf ?? n.oneOf ?? []).flatMap((alt) => objectsIn(schema, alt, path));
}

/** One table per object, its fields in schema order, then the objects below them. */
function tables(schema, node, path, seen) {
  const out = [];
  const required = new Set(node.required ?? []);
  out.push(`### \`${path}\``, '');
  if (node.description) out.push(cell(node.description), '');
  out.push('| field | type | required | what it is |', '|---|---|---|---|');
  const below = [];
  for (const [name, child] of Object.entries(node.properties)) {
    const field = resolve(schema, child);
    out.push(`| \`${name}\` | ${cell(typeOf(schema, child))} | ${required.has(name) ? 'yes' : ''} | ${cell(field?.description)} |`);
    for (const object of objectsIn(schema, child, `${path}.${name}`)) below.push(object);
  }
  out.push('');
  for (const object of below) {
    const key = `${object.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(...tables(schema, object.node, object.path, seen));
  }
  return out;
}

/** The reference page for a schema. */
export function schemaReference(schema) {
  const out = [
    '# Config reference',
    '',
    '<!-- Generated from schemas/federation.schema.json by scripts/schema-reference.mjs; do not edit: run `node scripts/schema-reference.mjs`. -->',
    '',
    cell(schema.description),
    '',
    'Every field of a config file, as fedctl validates it ([the config](config.md) shows them in use). A config may be split',
    'over several files; `${VAR}` in a string is read from the environment, and `$${` is a literal `${`.',
    '',
    '## Top level',
    '',
  ];
  out.push(...tables(schema, { ...schema, description: undefined }, 'config', new Set()).slice(2));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OUT, schemaReference(JSON.parse(readFileSync(SCHEMA, 'utf8'))));
}
