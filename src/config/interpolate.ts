import type { DocumentPath } from './diagnostic.js';
import { setOwn } from '../own-property.js';

/** `${NAME}` references; `$${` stands for a literal `${`. */
const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface InterpolationProblem {
  readonly path: DocumentPath;
  readonly message: string;
  readonly hint?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** The variable a whole-string reference like `${NAME}` names, or null when the string is anything else. */
export function referencedVariable(value: string): string | null {
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
  return match?.[1] ?? null;
}

/** Replace references in one string; problems are reported, the reference left as written. */
export function interpolateString(
  value: string,
  env: Environment,
  report: (message: string, hint?: string) => void,
): string {
  if (!value.includes('${')) return value;
  return value.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      report('unterminated ${ reference', 'close it with }, or write $${ for a literal ${');
      return match;
    }
    if (!VARIABLE_NAME.test(name)) {
      report(`invalid variable name ${JSON.stringify(name)} in \${...}`, 'use letters, digits and _; write $${ for a literal ${');
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      report(`environment variable ${name} is not set`, `set ${name}, or write $\${${name}} for a literal`);
      return match;
    }
    return resolved;
  });
}

/**
 * Replace `${NAME}` in every string of a plain value. Paths for which `keep`
 * returns true are left as written (secret references resolved at apply time).
 */
export function interpolateValue(
  value: unknown,
  env: Environment,
  keep: (path: DocumentPath) => boolean,
  problems: InterpolationProblem[],
  at: (string | number)[] = [],
): unknown {
  if (keep(at)) return value;
  if (typeof value === 'string') {
    return interpolateString(value, env, (message, hint) => problems.push({ path: [...at], message, hint }));
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateValue(item, env, keep, problems, [...at, index]));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      setOwn(out, key, interpolateValue(item, env, keep, problems, [...at, key]));
    }
    return out;
  }
  return value;
}
