import { readFileSync } from 'node:fs';
import { ruleKey, type CatalogRule, type DefaultRole, type Operation, type RuleKey, type Scope } from './rule-catalog.js';
import { packageFile } from '../package-files.js';
import { NEWEST_OF_EACH_LINE, type ReferenceRelease } from './vantage6-versions.js';

interface ReferenceRule { id: number; name: string; scope: Scope; operation: Operation; description: string }
interface ReferenceRole {
  id: number;
  name: string;
  description: string;
  rules: { name: string; scope: Scope; operation: Operation }[];
  duplicate_association_rows: { name: string; scope: Scope; operation: Operation; count: number }[];
}

/** What a release's server writes at its first start: its rule catalogue and its built-in roles. */
export interface ReferenceCatalog {
  /** The rules in registration (id) order. */
  readonly rules: readonly CatalogRule[];
  readonly defaultRoles: readonly DefaultRole[];
}

function readReference<T>(release: ReferenceRelease, name: string): T {
  return JSON.parse(readFileSync(packageFile(`reference/vantage6-${release}/${name}`), 'utf8')) as T;
}

const catalogs = new Map<ReferenceRelease, ReferenceCatalog>();

/** The rule catalogue and built-in roles of a carried release, read once from `reference/`. */
export function referenceCatalog(release: ReferenceRelease): ReferenceCatalog {
  const cached = catalogs.get(release);
  if (cached) return cached;
  const rules = readReference<ReferenceRule[]>(release, 'rules.json').map((rule) => ({
    id: rule.id,
    resource: rule.name,
    scope: rule.scope,
    operation: rule.operation,
    description: rule.description,
  }));
  const defaultRoles = readReference<ReferenceRole[]>(release, 'default_roles.json').map((role) => {
    const keys = role.rules.map((r) => ruleKey({ resource: r.name, scope: r.scope, operation: r.operation }));
    const extra = role.duplicate_association_rows.flatMap((d) =>
      Array.from({ length: d.count - 1 }, () => ruleKey({ resource: d.name, scope: d.scope, operation: d.operation })));
    return { id: role.id, name: role.name, description: role.description, rules: keys, associationRows: [...keys, ...extra] };
  });
  const catalog = { rules, defaultRoles };
  catalogs.set(release, catalog);
  return catalog;
}

let known: ReadonlySet<RuleKey> | null = null;

/** Every rule of a release fedctl knows (5.0 dropped some of 4.x's rules, so this is both lines' union). */
export function knownRuleKeys(): ReadonlySet<RuleKey> {
  known ??= new Set(NEWEST_OF_EACH_LINE.flatMap((release) => referenceCatalog(release).rules.map(ruleKey)));
  return known;
}
