import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { referenceCatalog } from '../../src/catalog/reference-catalog.js';
import { storeCatalog, storeRuleKey } from '../../src/catalog/store-catalog.js';
import { ruleKey } from '../../src/catalog/rule-catalog.js';
import { NEWEST_RELEASE } from '../../src/catalog/vantage6-versions.js';
import { ENTITY_KINDS, REQUIRED_ACTIONS, roleLabel, storeLabel, type EntityKind, type RoleRef } from '../../src/federation.js';
import type { Change, CreateChange, DesiredEntity, FieldChange, Plan } from '../../src/plan/plan.js';
import { PLAN_FORMAT_VERSION } from '../../src/plan/plan.js';
import { renderPlanMarkdown } from '../../src/render/render-plan-markdown.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { propertyRuns } from '../helpers/property-runs.js';

/**
 * Every kind, action and field a plan can carry, generated (fixed seed) with
 * the names people write, rendered in text, Markdown and JSON: no renderer
 * throws, and each field and value is in each output. The generators are
 * typed by the plan's own types, so a new kind or field that the tables
 * below do not cover fails the typecheck, and a new field of an entity is
 * rendered and checked the day it is added.
 */

const SERVER_RULES = referenceCatalog(NEWEST_RELEASE).rules.map(ruleKey);
const STORE_RULES = [...new Set([...storeCatalog('4.15').rules, ...storeCatalog('5.0').rules].map((r) => storeRuleKey(r.resource, r.operation)))];

/** Names as users write them: every script, marks, emoji, quotes, backslashes, `&`, `!`, `%`, backticks. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  fc.constantFrom('Ng (Jr.) & Söhne', 'C:\\path\\"x"', '100% sure!', '東京大学病院', 'مستشفى القاهرة', 'בית חולים', 'उदाहरण', 'ตัวอย่าง', '🏥 Zorg', '`tick`', "O'Brien", '<b>&amp;</b>'),
).map((s) => s.replace(/[\p{Cc}\u2028\u2029]/gu, '').trim()).filter((s) => s.length > 0);
/** Records as plans hold them, with Object's prototype (fast-check's default is none). */
const record = (<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(model, { noNullPrototype: true })) as typeof fc.record;
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arb, { nil: null });
const url = text.map((s) => `https://${encodeURIComponent(s)}.example.org/api`);
const roleRef: fc.Arbitrary<RoleRef> = record({ name: text, organization: nullable(text) });
const sorted = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** One generator per kind, typed by the plan's own `DesiredEntity`: a kind added to the plan must be added here. */
const ENTITIES: { readonly [K in EntityKind]: fc.Arbitrary<DesiredEntity[K]> } = {
  organization: record({ name: text, domain: nullable(text), address1: nullable(text), address2: nullable(text), zipcode: nullable(text), country: nullable(text) }),
  collaboration: record({ name: text, encrypted: fc.boolean(), members: fc.uniqueArray(text, { maxLength: 4 }).map(sorted) }),
  node: record({ organization: text, collaboration: text, name: text }),
  study: record({ name: text, collaboration: text, organizations: fc.uniqueArray(text, { maxLength: 4 }).map(sorted) }),
  role: record({ name: text, organization: nullable(text), description: nullable(text), rules: fc.subarray(SERVER_RULES, { maxLength: 5 }).map(sorted) }),
  user: record({
    username: text, organization: nullable(text), firstname: nullable(text), lastname: nullable(text), email: nullable(text), enabled: fc.boolean(),
    roles: fc.uniqueArray(roleRef, { maxLength: 3, selector: roleLabel }), rules: fc.subarray(SERVER_RULES, { maxLength: 3 }).map(sorted),
    password: fc.oneof(fc.constant(null), fc.constant({ from: 'generate' as const }), fc.constant({ from: 'invite' as const }),
      fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).map((variable) => ({ from: 'env' as const, variable }))),
    requiredActions: fc.option(fc.subarray([...REQUIRED_ACTIONS], { minLength: 1 }), { nil: undefined }),
    signIn: fc.option(record({ provider: text, subject: text }), { nil: undefined }),
  }).map(({ requiredActions, signIn, ...user }) => ({ ...user, ...(requiredActions === undefined ? {} : { requiredActions }), ...(signIn === undefined ? {} : { signIn }) })),
  // A store that serves every collaboration names none (the model's invariant).
  algorithm_store: record({ url, name: text, everyCollaboration: fc.boolean(), collaborations: fc.uniqueArray(text, { maxLength: 3 }).map(sorted) })
    .map((store) => (store.everyCollaboration ? { ...store, collaborations: [] } : store)),
  identity_provider: record({
    alias: text, type: fc.constantFrom('oidc' as const, 'saml' as const), displayName: nullable(text), metadata: url, clientId: nullable(text),
    clientSecret: nullable(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).map((variable) => `\${${variable}}`)), organizations: fc.uniqueArray(text, { maxLength: 3 }).map(sorted),
    required: fc.boolean(), fills: fc.subarray(['email=email', 'firstname=urn:oid:2.5.4.42', 'lastname=family_name']), onLoginPage: fc.boolean(), enabled: fc.boolean(), drift: fc.uniqueArray(text, { maxLength: 3 }).map(sorted),
  }),
  store_role: record({ store: url, name: text, description: nullable(text), rules: fc.subarray(STORE_RULES, { minLength: 1, maxLength: 4 }).map(sorted) }),
  store_user: record({ store: url, username: text, roles: fc.uniqueArray(text, { maxLength: 3 }).map(sorted) }),
};

/** The address a plan gives an entity of each kind. */
const ADDRESS: { readonly [K in EntityKind]: (entity: DesiredEntity[K]) => string } = {
  organization: (e) => e.name, collaboration: (e) => e.name, node: (e) => e.name, study: (e) => e.name, role: roleLabel,
  user: (e) => e.username, algorithm_store: (e) => e.url, identity_provider: (e) => e.alias, store_role: (e) => storeLabel(e.name, e.store), store_user: (e) => storeLabel(e.username, e.store),
};

/** The fields of each kind that are secrets replaced on request, or set changes not among the entity's attributes. */
const EXTRA_FIELDS: { readonly [K in EntityKind]: readonly FieldChange[] } = {
  organization: [], collaboration: [], study: [], role: [], algorithm_store: [], identity_provider: [], store_role: [], store_user: [],
  node: [{ field: 'api_key', secret: 'rotate' }],
  user: [{ field: 'password', secret: 'reset' }, { field: 'password', secret: 'remove' }, { field: 'invitation', secret: 'send' }, { field: 'invitation', secret: 'resend' },
    { field: 'required_actions', added: ['configure_totp'], removed: [] }, { field: 'sign_in', before: 'umc-entra: 0b6c-π', after: 'surf: قاهرة@example.org' }],
};

/** A set's members as the plan names them (a user's roles by label). */
const members = (value: readonly unknown[]): string[] => value.map((item) => (typeof item === 'string' ? item : roleLabel(item as RoleRef)));
const isScalar = (value: unknown): value is string | boolean | null => value === null || typeof value === 'string' || typeof value === 'boolean';

/** Every attribute of the entity as a field change from `before` to `after`: scalars replaced, sets with members added and removed. */
function fieldsOf(kind: EntityKind, before: object, after: object): FieldChange[] {
  const was = before as Readonly<Record<string, unknown>>;
  const fields: FieldChange[] = [];
  for (const [field, will] of Object.entries(after)) {
    const had = was[field];
    if (isScalar(will) && isScalar(had ?? null)) fields.push({ field, before: (had ?? null) as string | boolean | null, after: will });
    else if (Array.isArray(will)) {
      const now = members(will);
      const then = Array.isArray(had) ? members(had) : [];
      fields.push({ field, added: now.filter((m) => !then.includes(m)), removed: then.filter((m) => !now.includes(m)) });
    }
  }
  return [...fields, ...EXTRA_FIELDS[kind]];
}

const changesOf = <K extends EntityKind>(kind: K): fc.Arbitrary<Change[]> =>
  fc.tuple(ENTITIES[kind], ENTITIES[kind], ENTITIES[kind]).map(([created, before, after]) => [
    { action: 'create', kind, address: ADDRESS[kind](created), after: created } as CreateChange,
    { action: 'update', kind, address: ADDRESS[kind](after), id: 7, before, after, fields: fieldsOf(kind, before, after) } as Change,
    { action: 'delete', kind, address: ADDRESS[kind](before), id: 9, before } as Change,
  ]);

const accessItem = record({ resource: text, operation: text, scope: text, on: fc.array(text, { minLength: 1, maxLength: 3 }) });
const policyValue = fc.oneof(text, fc.integer(), fc.boolean(), fc.array(text, { maxLength: 3 }));

/** A plan with every part a plan can have, each generated. */
const plans: fc.Arbitrary<Plan> = record({
  changes: fc.tuple(...ENTITY_KINDS.map(changesOf)).map((lists) => lists.flat()),
  display: text, unknown: fc.array(text, { maxLength: 2 }), initialize: fc.boolean(),
  unmanaged: fc.array(record({ kind: fc.constantFrom(...ENTITY_KINDS), address: text, serverOwned: fc.option(fc.constant(true as const), { nil: undefined }) }), { maxLength: 3 }),
  blocked: fc.array(record({ action: fc.constantFrom('create' as const, 'update' as const, 'delete' as const), kind: fc.constantFrom(...ENTITY_KINDS), address: text, reason: text }), { maxLength: 3 }),
  policyDrift: fc.array(record({ store: url, policy: text, live: nullable(policyValue), config: policyValue }), { minLength: 1, maxLength: 3 }),
  lastApply: nullable(record({ id: fc.nat(), appliedAt: fc.constant('2026-11-30T10:00:00.000Z'), commit: nullable(fc.stringMatching(/^[0-9a-f]{12}$/)), author: nullable(text), branch: nullable(text), summary: text })),
  changedOutsideFedctl: fc.boolean(), recording: fc.boolean(), kept: fc.boolean(),
  unrecordedKeys: fc.array(text, { minLength: 1, maxLength: 2 }), staleNodeFiles: fc.array(text, { minLength: 1, maxLength: 2 }), storesDeletingUsers: fc.array(url, { minLength: 1, maxLength: 2 }),
  groups: fc.array(record({ users: fc.array(text, { minLength: 1, maxLength: 3 }), organizations: fc.nat(3), gains: fc.array(accessItem, { maxLength: 2 }), losses: fc.array(accessItem, { maxLength: 2 }), causes: fc.array(text, { maxLength: 2 }), notable: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  across: fc.option(record({ server: text, vantage6: fc.constantFrom('4.13 to 4.15', '4.10.2') }), { nil: undefined }),
  adapted: fc.option(record({
    vantage6: fc.constantFrom('4.13', '4.0 to 4.2'),
    // Notes repeat (one note is often made to every user): drawn from a few.
    adaptations: fc.array(record({ entity: text, at: nullable(text), note: fc.constantFrom('password: invite', 'left out port: view (global)', 'named "a-b"') }), { minLength: 1, maxLength: 8 }),
  }), { nil: undefined }),
  violations: fc.array(record({ guardrail: text, users: fc.array(text, { minLength: 1, maxLength: 3 }), breach: text, causes: fc.array(text, { maxLength: 2 }) }), { minLength: 1, maxLength: 2 }),
}).map((p): Plan => ({
  formatVersion: PLAN_FORMAT_VERSION,
  database: { engine: 'api', display: p.display, initialize: p.initialize, vantage6: '5.0.3', ...(p.unknown.length > 0 ? { unknown: p.unknown } : {}) },
  changes: p.changes,
  unmanaged: p.unmanaged.map(({ serverOwned, ...rest }) => (serverOwned ? { ...rest, serverOwned } : rest)),
  blocked: p.blocked,
  summary: { add: p.changes.filter((c) => c.action === 'create').length, change: p.changes.filter((c) => c.action === 'update').length, destroy: p.changes.filter((c) => c.action === 'delete').length },
  policyDrift: p.policyDrift,
  history: p.kept ? { recording: p.recording, lastApply: p.lastApply, changedOutsideFedctl: p.changedOutsideFedctl } : { kept: false, recording: false, lastApply: null, changedOutsideFedctl: false },
  unrecordedKeys: p.unrecordedKeys, staleNodeFiles: p.staleNodeFiles, storesDeletingUsers: p.storesDeletingUsers,
  access: { users: p.groups.reduce((n, g) => n + g.users.length, 0), groups: p.groups },
  ...(p.adapted === undefined ? {} : { adaptedFrom: p.adapted }),
  ...(p.across === undefined ? {} : { accessAcross: { ...p.across, users: p.groups.reduce((n, g) => n + g.users.length, 0), groups: p.groups } }),
  violations: p.violations,
}));

/** What must be in a rendered plan: every value of every change, and every part of the plan. */
function expectedTexts(plan: Plan): [where: string, text: string | readonly string[]][] {
  const found: [string, string | readonly string[]][] = [];
  const out = { push: (...texts: (string | readonly string[])[]): void => void found.push(...texts.map((t): [string, string | readonly string[]] => [where, t])) };
  /** A set's member, as it is (a built-in role's label), quoted, or a rule as people read it. */
  const member = (kind: EntityKind, field: string, item: string): readonly string[] => (field === 'rules' ? [ruleText(kind, item)] : [item, JSON.stringify(item)]);
  let where = 'the plan';
  for (const change of plan.changes) {
    where = `${change.action} ${change.kind}`;
    // A renamed entity's heading is its names before and after, which the field checks below expect.
    const renamed = change.action === 'update' && change.fields.some((f) => 'before' in f && (f.field === 'name' || f.field === 'username'));
    if (!renamed) out.push(JSON.stringify(change.address));
    if (change.action === 'create') {
      for (const [field, value] of Object.entries(change.after)) {
        if (typeof value === 'string' && !change.address.includes(value)) out.push(JSON.stringify(value));
        if (Array.isArray(value)) out.push(...members(value).map((m) => member(change.kind, field, m)));
      }
    }
    if (change.action === 'update') {
      for (const field of change.fields) {
        if ('before' in field) out.push(...[field.before, field.after].map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))));
        else if ('added' in field) out.push(...[...field.added, ...field.removed].map((m) => member(change.kind, field.field, m)));
        else out.push(field.field);
      }
    }
  }
  where = 'the plan';
  out.push(...(plan.database.unknown ?? []), ...(plan.unrecordedKeys ?? []).map((n) => JSON.stringify(n)), ...(plan.staleNodeFiles ?? []).map((n) => JSON.stringify(n)));
  out.push(...(plan.storesDeletingUsers ?? []), ...plan.blocked.map((b) => b.reason));
  for (const drift of plan.policyDrift ?? []) out.push(drift.store, drift.policy, JSON.stringify(drift.config));
  for (const group of plan.access?.groups ?? []) {
    out.push(...group.causes);
    for (const item of [...group.gains, ...group.losses]) out.push(`${item.resource}: ${item.operation} (${item.scope})`);
  }
  if (plan.accessAcross !== undefined) out.push(plan.accessAcross.server, `vantage6 ${plan.accessAcross.vantage6}`);
  if (plan.adaptedFrom !== undefined) {
    out.push(`vantage6 ${plan.adaptedFrom.vantage6}`);
    // Each note once, with the first entities it was made to (the rest counted; the JSON has them all).
    const notes = new Map<string, typeof plan.adaptedFrom.adaptations[number][]>();
    for (const a of plan.adaptedFrom.adaptations) notes.set(a.note, [...(notes.get(a.note) ?? []), a]);
    for (const [note, made] of notes) {
      out.push(note, ...made.slice(0, 3).flatMap((a) => [a.entity, ...(a.at === null ? [] : [a.at])]));
      if (made.length > 3) out.push(`and ${made.length - 3} more`);
    }
  }
  for (const violation of plan.violations ?? []) out.push(JSON.stringify(violation.guardrail), violation.breach, ...violation.causes);
  return found;
}

/** A rule as a reviewer reads it: a server's with its scope, a store's as the store spells it. */
function ruleText(kind: EntityKind, key: string): string {
  if (kind === 'store_role') return key;
  const [resource = '', scope = '', operation = ''] = key.split(':');
  return `${resource}: ${operation.toLowerCase()} (${scope.toLowerCase()})`;
}

const planSchema = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object);

describe('every kind, action and field a plan can carry', () => {
  it('renders in text, Markdown and JSON, without a throw and without a value missing', () => {
    fc.assert(fc.property(plans, (plan) => {
      const outputs = {
        text: renderPlanText(plan, { color: false, showUnmanaged: true, showAccess: true }),
        markdown: renderPlanMarkdown(plan, { configs: ['federation.yaml'], madeAt: new Date(0), commit: null }),
      };
      for (const [form, output] of Object.entries(outputs)) {
        for (const [where, expected] of expectedTexts(plan)) {
          const forms = typeof expected === 'string' ? [expected] : expected;
          assert.ok(forms.some((e) => output.includes(e)), `${form} lacks ${JSON.stringify(expected)} of ${where}`);
        }
      }
      for (const entity of plan.unmanaged) assert.ok(outputs.text.includes(JSON.stringify(entity.address)), `text lacks unmanaged ${entity.address}`);
      const { add, change, destroy } = plan.summary;
      assert.ok(outputs.text.includes(`Plan: ${add} to add, ${change} to change, ${destroy} to destroy.`));
      assert.ok(outputs.markdown.includes(`${add} to add, ${change} to change, ${destroy} to destroy`));
      const json = JSON.stringify(plan);
      assert.deepEqual(JSON.parse(json), plan);
      assert.ok(planSchema(JSON.parse(json)), JSON.stringify(planSchema.errors?.slice(0, 3)));
    }), { ...propertyRuns(40), reporter: (details) => { if (details.failed) throw details.errorInstance; } });
  });

  it('shows a store role\'s rules changed as the store spells them (they have no scope)', () => {
    const before = { store: 'https://store.example.org/api', name: 'Approver', description: null, rules: ['review:edit'] };
    const after = { ...before, rules: ['review:edit', 'user:view'] };
    const plan: Plan = {
      formatVersion: PLAN_FORMAT_VERSION, database: { engine: 'api', display: 'https://v6.example.org/api', initialize: false, vantage6: '4.15.2' },
      changes: [{ action: 'update', kind: 'store_role', address: storeLabel('Approver', before.store), id: 2, before, after, fields: [{ field: 'rules', added: ['user:view'], removed: [] }] }],
      unmanaged: [], blocked: [], summary: { add: 0, change: 1, destroy: 0 },
    };
    assert.match(renderPlanText(plan, { color: false, showUnmanaged: false }), /~ store_role "Approver \(https:\/\/store\.example\.org\/api\)"\n {6}rules:\n {8}\+ user:view\n/);
    assert.match(renderPlanMarkdown(plan), /\+ user:view/);
  });
});
