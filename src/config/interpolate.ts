import type { DocumentPath } from '../diagnostic.js';
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
 * Copy on write: a subtree without references is returned as it is.
 */
export function interpolateValue(
  value: unknown,
  env: Environment,
  keep: (path: DocumentPath) => boolean,
  problems: InterpolationProblem[],
  at: (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${') || keep(at)) return value;
    return interpolateString(value, env, (message, hint) => problems.push({ path: [...at], message, hint }));
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item, index) => {
      at.push(index);
      const replaced = interpolateValue(item, env, keep, problems, at);
      at.pop();
      if (replaced !== item) (copy ??= [...value])[index] = replaced;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    at.push(key);
    const replaced = interpolateValue(item, env, keep, problems, at);
    at.pop();
    if (replaced !== item) setOwn((copy ??= { ...value }), key, replaced);
  }
  return copy ?? value;
}

/** Strings are interpolated on load: a literal `${` is written `$${`. */
export function literal(value: string): string {
  return value.replaceAll('${', () => '$${');
}
