import { stringify } from 'yaml';
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
 * How names look: `plain` as a generator would make them (ASCII, numbered);
 * `realistic` as servers filled over the years have them: YAML's own
 * punctuation, quotes, backslashes, percent signs, emoji, CJK and
 * right-to-left scripts, leading digits, long and mixed-script names.
 */
export type NameStyle = 'plain' | 'realistic';

const ORGANIZATION_NAMES = [
  (i: number) => `Hôpital Saint-Louis & Partners ${i}`,
  (i: number) => `"Quoted" Research Institute ${i}`,
  (i: number) => `Lab 100% Data! ${i}`,
  (i: number) => `Back\\slash Foundation ${i}`,
  (i: number) => `北京协和医院 ${i}`,
  (i: number) => `مستشفى الملك فيصل ${i}`,
  (i: number) => `בית החולים הדסה ${i}`,
  (i: number) => `🏥 Clinic of the North ${i}`,
  (i: number) => `3rd Medical Center ${i}`,
  (i: number) => `Universitätsklinikum Schleswig-Holstein, Campus Kiel — Institut für Medizinische Informatik und Statistik ${i}`,
  (i: number) => `O'Neill & Ελληνικό-Кириллица Consortium ${i}`,
  (i: number) => `Research & Development: #${i} [pilot] {EU}`,
];
const FIRST_NAMES = ['Zoë', 'Łukasz', 'Siobhán', 'José', '李', 'محمد', 'Noa', 'Ørjan', 'Anna-Lena', 'Jean "JJ"'];
const LAST_NAMES = ["O'Brien", 'de Vries', 'Müller-Lüdenscheidt', '王', 'العلي', 'Cohen', 'Ødegård', 'Nguyễn', 'Smith & Sons', 'Back\\slash'];
const COUNTRIES = ['Netherlands', 'Deutschland', 'Norge', '日本', 'ישראל', 'مصر', 'Côte d’Ivoire', 'España'];

/**
 * A synthetic federation of the given size as a config object: realistic
 * shapes (roles of 5 to 15 rules, users with one or two roles, most without a
 * password), deterministic from the seed. `shared`: users of one built-in
 * role share one roles list, and roles of one kind one rules list, so that the
 * YAML writer makes them anchors and aliases, as people share values.
 */
export function generateFederation(size: SizeName, seed = 42, style: NameStyle = 'plain', shared = false): Record<string, unknown> {
  const n = SIZES[size];
  const rand = random(seed);
  const int = (max: number): number => Math.floor(rand() * max);
  const pad = (i: number): string => String(i).padStart(5, '0');
  const realistic = style === 'realistic';
  const organizations = Array.from({ length: n.organizations }, (_, i) => ({
    name: realistic ? (ORGANIZATION_NAMES[i % ORGANIZATION_NAMES.length] as (i: number) => string)(i) : `Organization ${pad(i)}`,
    domain: `org${i}.example.org`,
    country: realistic ? COUNTRIES[i % COUNTRIES.length] : ['Netherlands', 'Germany', 'Norway', 'Belgium', 'France'][i % 5],
  }));
  const perCollab = Math.max(2, Math.round(n.nodes / n.collaborations));
  const collaborations = Array.from({ length: n.collaborations }, (_, c) => {
    const start = int(n.organizations);
    const members = Array.from({ length: Math.min(perCollab, n.organizations) }, (_, k) => organizations[(start + k * 7) % n.organizations]?.name as string);
    const name = realistic ? `${['Colorectal & Breast', 'ESMO "Rare" Tumours', 'Covid-19 (100%)', '心血管', 'סרטן'][c % 5]} ${pad(c)}` : `Collaboration ${pad(c)}`;
    return { name, encrypted: c % 3 !== 0, members: [...new Set(members)].map((organization) => ({ organization })) };
  });
  const ruleLists = new Map<number, { resource: string; scope: string; operation: string }[]>();
  const roles = Array.from({ length: n.roles }, (_, r) => {
    const kind = r % 12;
    const cached = shared ? ruleLists.get(kind) : undefined;
    const rules = new Map<string, { resource: string; scope: string; operation: string }>();
    const count = 5 + int(11);
    while (!cached && rules.size < count) {
      const rule = RULE_CATALOG[int(RULE_CATALOG.length)];
      if (rule) rules.set(`${rule.resource}${rule.scope}${rule.operation}`, { resource: rule.resource, scope: readableSpelling(rule.scope), operation: readableSpelling(rule.operation) });
    }
    const list = cached ?? [...rules.values()];
    if (shared) ruleLists.set(kind, list);
    return {
      name: realistic ? `${['Data Steward', 'Auditor (read-only)', 'Onderzoeker', 'مشرف', '管理者', 'Lead "Analyst"'][r % 6]} ${pad(r)}` : `Role ${pad(r)}`,
      organization: organizations[r % n.organizations]?.name,
      description: realistic ? `Manages nodes & studies; 100% "reviewed" by the board (${r})` : `Synthetic role ${r}`,
      rules: list,
    };
  });
  const rolesByOrg = new Map<string, string[]>();
  for (const role of roles) rolesByOrg.set(role.organization as string, [...(rolesByOrg.get(role.organization as string) ?? []), role.name]);
  const builtInLists = new Map(BUILT_IN.map((name) => [name, [name]]));
  const users = Array.from({ length: n.users }, (_, u) => {
    const organization = organizations[int(n.organizations)]?.name as string;
    const own = rolesByOrg.get(organization) ?? [];
    const builtIn = BUILT_IN[int(BUILT_IN.length)] as string;
    const extra = own.length > 0 && rand() < 0.3 ? [own[int(own.length)] as string] : [];
    const userRoles = shared && extra.length === 0 ? builtInLists.get(builtIn) as string[] : [...new Set([builtIn, ...extra])];
    const rule = RULE_CATALOG[int(RULE_CATALOG.length)];
    return {
      username: realistic ? `${['anna', 'j.o-brien', 'zoe_99', 'li.wang', 'm.alali'][u % 5]}.${pad(u)}` : `user${pad(u)}`,
      organization,
      firstname: realistic ? FIRST_NAMES[u % FIRST_NAMES.length] : `First${u}`,
      lastname: realistic ? `${LAST_NAMES[u % LAST_NAMES.length]} ${u}` : `Last${u}`,
      email: `user${u}@example.org`,
      roles: userRoles,
      ...(rand() < 0.1 && rule ? { rules: [{ resource: rule.resource, scope: readableSpelling(rule.scope), operation: readableSpelling(rule.operation) }] } : {}),
      ...(u % 100 === 0 ? { password: 'generate' } : {}),
    };
  });
  const studies = Array.from({ length: n.studies }, (_, s) => {
    const collaboration = collaborations[int(n.collaborations)];
    return {
      name: realistic ? `Study ${pad(s)}: survival & "outcomes" 🧬` : `Study ${pad(s)}`,
      collaboration: collaboration?.name,
      organizations: (collaboration?.members ?? []).filter((_, k) => k % 2 === 0).map((m) => m.organization),
    };
  });
  return { version: 1, organizations, roles, users, collaborations, studies };
}

/**
 * The config as text, as people keep it: realistic configs get comments
 * (with YAML's own punctuation in them) before list items, as reviewers leave
 * them. Shared values become anchors and aliases.
 */
export function configText(config: Record<string, unknown>, style: NameStyle): string {
  const text = stringify(config, { lineWidth: 0 });
  if (style === 'plain') return text;
  let items = 0;
  return text.split('\n').map((line) => {
    if (!/^ {2}- /.test(line) || items++ % 10 !== 0) return line;
    return `  # reviewed by Anna & Bram! 100% done — see ticket #${items} [ok] "yes"\n${line}`;
  }).join('\n');
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
