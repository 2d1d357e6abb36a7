import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { RUNS_FROM_SOURCE, packageFile } from '../package-files.js';
import type { Diagnostic, DocumentPath } from '../diagnostic.js';
import { didYouMean } from '../suggest.js';
import type { ConfigDocument } from './load-config.js';

/** An e-mail address: its local part in ASCII, its domain's labels in any script, with the marks Devanagari or Thai need (an internationalized domain, as Keycloak takes it). */
const EMAIL_PATTERN = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[\\p{L}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]{0,61}[\\p{L}\\p{M}\\p{N}])?\\.)+[\\p{L}\\p{N}](?:[\\p{L}\\p{M}\\p{N}-]{0,61}[\\p{L}\\p{M}\\p{N}])?$";

/** Friendlier words for the schema's patterns than the regular expressions themselves. */
const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  '^[^\\s\\p{Cc}](?:[^\\p{Cc}\\u2028\\u2029]*[^\\s\\p{Cc}])?$': 'must not be empty, start or end with whitespace, or contain control characters or line breaks',
  '^[a-zA-Z][a-zA-Z0-9._-]+$': "must start with a letter and contain only letters, digits, '.', '_' and '-'",
  '^(4\\.[0-9]{1,2}|5\\.0)(\\.[0-9]+)?$': 'must be a vantage6 version, such as "4.8" or "5.0"',
  '^age1[02-9ac-hj-np-z]{20,}$': 'must be an age public key: age1 and lowercase letters and digits, as age-keygen prints it',
  '^https?://[^/\\s:]+$': 'must be the server\'s base URL, https://host, without port or path (give them as port and api_path)',
  '^/[^\\s]*$': 'must be a path starting with /, such as /api',
  [EMAIL_PATTERN]: 'must be an e-mail address, such as anna+v6@example.org (a domain in any script: bücher.example)',
  '^https?://[^\\s]+$': 'must be a URL, such as https://auth.v6.example.org',
  '^https?://[^/\\s?#]+/[^\\s?#]*[^/\\s?#]$': 'must be the store\'s API URL with its path and without a trailing slash, such as https://store.example.org/api',
};

/** Compile schemas/federation.schema.json with ajv: a tenth of a second, and ajv's own loading as much again. */
export async function compileSchemaValidator(): Promise<ValidateFunction> {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
  return ajv.compile(JSON.parse(readFileSync(packageFile('schemas/federation.schema.json'), 'utf8')) as object);
}

/** Built by scripts/build-validator.mjs: the validator as code, so that the command does not compile the schema at every start. */
export const PRECOMPILED_VALIDATOR = packageFile('dist/federation-validator.js');

/** The schema's validator: running from source compiles the schema as it is now; the built command loads the precompiled one. */
const validate: ValidateFunction = RUNS_FROM_SOURCE
  ? await compileSchemaValidator()
  : ((await import(PRECOMPILED_VALIDATOR.href)) as { default: ValidateFunction }).default;

/** Check one document against schemas/federation.schema.json; every violation becomes a located diagnostic. */
export function checkSchema(document: ConfigDocument, value: unknown): Diagnostic[] {
  if (validate(value)) return [];
  return simplifyErrors(validate.errors ?? []).map((error) => toDiagnostic(document, error));
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((raw) => {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(segment) ? Number(segment) : segment;
  });
}

/**
 * ajv reports every failed alternative of an `anyOf`. Keep the alternative
 * that got furthest into the value: errors below the value win over errors at
 * it, and at one place a wrong value wins over a wrong type. So `scope:
 * orgnization` says "must be one of …" once, not three different things.
 */
function simplifyErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const alternatives = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const kept = errors.filter((error) => {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') return false;
    if (!alternatives.has(error.instancePath)) return true;
    return !errors.some((other) => other.instancePath.startsWith(`${error.instancePath}/`));
  });
  const wrongValueAt = new Set(kept.filter((e) => e.keyword !== 'type').map((e) => e.instancePath));
  // An empty name fails its minimum length and its pattern, whose message says both: one error, in words.
  const patternAt = new Set(kept.filter((e) => e.keyword === 'pattern').map((e) => e.instancePath));
  return mergeAlternatives(kept.filter((e) => (e.keyword !== 'type' || !wrongValueAt.has(e.instancePath))
    && (e.keyword !== 'minLength' || !patternAt.has(e.instancePath))));
}

/** Equally good alternatives at one path become one error: "must be boolean or object", "must be one of …". */
function mergeAlternatives(errors: readonly ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const typeAt = new Map<string, ErrorObject>();
  const enumAt = new Map<string, ErrorObject>();
  for (const error of errors) {
    if (error.keyword === 'type') {
      const seen = typeAt.get(error.instancePath);
      const types = [(error.params as { type: string | string[] }).type].flat();
      if (seen) {
        const merged = [(seen.params as { type: string | string[] }).type, types].flat();
        seen.params = { type: [...new Set(merged)] };
        continue;
      }
      const copy = { ...error, params: { type: types } };
      typeAt.set(error.instancePath, copy);
      out.push(copy);
    } else if (error.keyword === 'enum' || error.keyword === 'const') {
      const values = error.keyword === 'enum'
        ? (error.params as { allowedValues: unknown[] }).allowedValues
        : [(error.params as { allowedValue: unknown }).allowedValue];
      const seen = enumAt.get(error.instancePath);
      if (seen) {
        const merged = [...(seen.params as { allowedValues: unknown[] }).allowedValues, ...values];
        seen.params = { allowedValues: [...new Set(merged)] };
        continue;
      }
      const copy: ErrorObject = { ...error, keyword: 'enum', params: { allowedValues: values } };
      enumAt.set(error.instancePath, copy);
      out.push(copy);
    } else {
      out.push(error);
    }
  }
  return out;
}

/** One diagnostic per (path, kind of problem): alternatives of one value are merged into one message. */
function toDiagnostic(document: ConfigDocument, error: ErrorObject): Diagnostic {
  const path: DocumentPath = pointerToPath(error.instancePath);
  const at = (p: DocumentPath, key = false): Diagnostic['location'] => document.locate(p, { key });
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        severity: 'error',
        location: at([...path, field], true),
        path: [...path, field],
        message: `unknown field ${JSON.stringify(field)}`,
        hint: didYouMean(field, allowed) ?? `allowed fields: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const field = String((error.params as { missingProperty: string }).missingProperty);
      return { severity: 'error', location: at(path), path, message: `missing required field ${JSON.stringify(field)}` };
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const text = allowed.map((v) => JSON.stringify(v));
      const suggestion = typeof error.data === 'string'
        ? didYouMean(error.data, allowed.filter((v): v is string => typeof v === 'string'))
        : undefined;
      return {
        severity: 'error',
        location: at(path),
        path,
        message: text.length === 1 ? `must be ${text[0]}` : `must be one of ${text.join(', ')}`,
        hint: suggestion,
      };
    }
    case 'type': {
      const expected = (error.params as { type: string | string[] }).type;
      return {
        severity: 'error',
        location: at(path),
        path,
        message: `must be ${[expected].flat().join(' or ')}, not ${describe(error.data)}`,
        // YAML reads an unquoted 4.10 or 1011 AB as a number (4.1): what was meant needs quotes.
        hint: [expected].flat().includes('string') && typeof error.data === 'number' ? 'quote it, so that YAML reads it as text' : undefined,
      };
    }
    case 'pattern': {
      const pattern = (error.params as { pattern: string }).pattern;
      return { severity: 'error', location: at(path), path, message: PATTERN_MESSAGES[pattern] ?? `must match ${pattern}` };
    }
    case 'minLength':
    case 'maxLength': {
      const limit = (error.params as { limit: number }).limit;
      return { severity: 'error', location: at(path), path, message: `must be ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${limit} characters long` };
    }
    default:
      return { severity: 'error', location: at(path), path, message: error.message ?? 'is invalid' };
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
