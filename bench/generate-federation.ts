import { readableSpelling } from '../src/catalog/rule-catalog.js';
import { referenceCatalog } from '../src/catalog/reference-catalog.js';
import { NEWEST_RELEASE } from '../src/catalog/vantage6-versions.js';

const RULE_CATALOG = referenceCatalog(NEWEST_RELEASE).rules;

/** Sizes from the issue: the largest vantage6 networks and then some. */
export const SIZES = {
  S: { organizations: 50, users: 500, collaborations: 10, nodes: 150, roles: 20, studies: 5 },
  M: { organizations: 500, users: 10_000, collaborations: 100, nodes: 2_500, roles: 200, studies: 50 },
  L: { organizations: 2_000, users: 50_000, collaborations: 300, nodes: 10_000, roles: 500, studies: 200 },
} as const;

export type SizeName = keyof typeof SIZES;

/** mulberry32: small, fast, and the same numbers for the same seed everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BUILT_IN = ['Viewer', 'Researcher', 'Organization Admin', 'Collaboration Admin'];

/**
 * A synthetic federation of the given size as a config object: realistic
 * shapes (roles of 5 to 15 rules, users with one or two roles, most without a
 * password), deterministic from the seed.
 */
export function generateFederation(size: SizeName, seed = 42): Record<string, unknown> {
  const n = SIZES[size];
  const rand = random(seed);
  const int = (max: number): number => Math.floor(rand() * max);
  const pad = (i: number): string => String(i).padStart(5, '0');
  const organizations = Array.from({ length: n.organizations }, (_, i) => ({
    name: `Organization ${pad(i)}`,
    domain: `org${i}.example.org`,
    country: ['Netherlands', 'Germany', 'Norway', 'Belgium', 'France'][i % 5],
  }));
  const perCollab = Math.max(2, Math.round(n.nodes / n.collaborations));
  const collaborations = Array.from({ length: n.collaborations }, (_, c) => {
    const start = int(n.organizations);
    const members = Array.from({ length: Math.min(perCollab, n.organizations) }, (_, k) => organizations[(start + k * 7) % n.organizations]?.name as string);
    return { name: `Collaboration ${pad(c)}`, encrypted: c % 3 !== 0, members: [...new Set(members)].map((organization) => ({ organization })) };
  });
  const roles = Array.from({ length: n.roles }, (_, r) => {
    const rules = new Map<string, { resource: string; scope: string; operation: string }>();
    const count = 5 + int(11);
    while (rules.size < count) {
      const rule = RULE_CATALOG[int(RULE_CATALOG.length)];
      if (rule) rules.set(`${rule.resource}${rule.scope}${rule.operation}`, { resource: rule.resource, scope: readableSpelling(rule.scope), operation: readableSpelling(rule.operation) });
    }
    return { name: `Role ${pad(r)}`, organization: organizations[r % n.organizations]?.name, description: `Synthetic role ${r}`, rules: [...rules.values()] };
  });
  const rolesByOrg = new Map<string, string[]>();
  for (const role of roles) rolesByOrg.set(role.organization as string, [...(rolesByOrg.get(role.organization as string) ?? []), role.name]);
  const users = Array.from({ length: n.users }, (_, u) => {
    const organization = organizations[int(n.organizations)]?.name as string;
    const own = rolesByOrg.get(organization) ?? [];
    const userRoles = [BUILT_IN[int(BUILT_IN.length)] as string, ...(own.length > 0 && rand() < 0.3 ? [own[int(own.length)] as string] : [])];
    const rule = RULE_CATALOG[int(RULE_CATALOG.length)];
    return {
      username: `user${pad(u)}`,
      organization,
      firstname: `First${u}`,
      lastname: `Last${u}`,
      email: `user${u}@example.org`,
      roles: [...new Set(userRoles)],
      ...(rand() < 0.1 && rule ? { rules: [{ resource: rule.resource, scope: readableSpelling(rule.scope), operation: readableSpelling(rule.operation) }] } : {}),
      ...(u % 100 === 0 ? { password: 'generate' } : {}),
    };
  });
  const studies = Array.from({ length: n.studies }, (_, s) => {
    const collaboration = collaborations[int(n.collaborations)];
    return {
      name: `Study ${pad(s)}`,
      collaboration: collaboration?.name,
      organizations: (collaboration?.members ?? []).filter((_, k) => k % 2 === 0).map((m) => m.organization),
    };
  });
  return { version: 1, organizations, roles, users, collaborations, studies };
}

/**
 * The same federation with about 1% of users changed and 1% added. A deep
 * copy: shared objects would be written as YAML anchors and aliases.
 */
export function changeOnePercent(original: Record<string, unknown>): Record<string, unknown> {
  const config = structuredClone(original);
  const users = config.users as { username: string; email: string; lastname: string }[];
  const step = 100;
  const changed = users.map((user, i) => (i % step === 1 ? { ...user, lastname: `${user.lastname} Changed`, email: `changed.${user.email}` } : user));
  const added = users.filter((_, i) => i % step === 2).map((user) => ({ ...structuredClone(user), username: `new.${user.username}`, email: `new.${user.email}` }));
  return { ...config, users: [...changed, ...added] };
}
