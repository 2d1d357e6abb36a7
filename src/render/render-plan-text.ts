import { Chalk, type ChalkInstance } from 'chalk';
import { describeRule } from '../catalog/rule-catalog.js';
import { accessLines, acrossLines, violationLines } from './render-access.js';
import { NEWEST_MINOR, NEWEST_RELEASE, formatMinor } from '../catalog/vantage6-versions.js';
import { roleLabel, signInLabel, type EntityKind, type PasswordSource, type RoleRef, type StorePolicyValue } from '../federation.js';
import type { AdaptedFrom, Change, FieldChange, Plan, PolicyDrift, ScalarValue } from '../plan/plan.js';
import { describeApply } from '../history/apply-history.js';

export interface TextRenderOptions {
  readonly color: boolean;
  /** List unmanaged entities one by one instead of counting them. */
  readonly showUnmanaged: boolean;
  /** Show every access change, not the first groups, users and targets. */
  readonly showAccess?: boolean;
}

const quoted = (value: string): string => JSON.stringify(value);

/**
 * How the members of each kind's sets read: a server's rules with their
 * scope (`task: create (collaboration)`), a store's as the store spells them
 * (`review:edit`, they have none), every other member quoted. Per kind, so
 * that a kind's field is never read as another kind's.
 */
const SET_MEMBERS: Readonly<Record<EntityKind, Readonly<Record<string, (value: string) => string>>>> = {
  organization: {}, collaboration: {}, node: {}, study: {}, algorithm_store: {}, store_user: {},
  identity_provider: { drift: (value) => value, fills: (value) => value },
  role: { rules: describeRule },
  user: { rules: describeRule },
  store_role: { rules: (value) => value },
};

const memberLabel = (kind: EntityKind, field: string): ((value: string) => string) => SET_MEMBERS[kind][field] ?? quoted;

function passwordText(source: PasswordSource): string {
  if (source === null) return 'none';
  if (source.from === 'invite') return '(set by the user: Keycloak e-mails them an invitation)';
  return source.from === 'generate' ? '(sensitive, generated into the secrets file)' : `(sensitive, from $${source.variable})`;
}

function formatValue(value: ScalarValue): string {
  return value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The attributes shown for a new entity, in a fixed order, secrets replaced by where they come from. */
function createAttributes(change: Extract<Change, { action: 'create' }>): [string, string | string[]][] {
  const rows: [string, string | string[]][] = [];
  const push = (field: string, value: ScalarValue): void => {
    if (value !== null) rows.push([field, formatValue(value)]);
  };
  switch (change.kind) {
    case 'organization': {
      const o = change.after;
      push('domain', o.domain); push('address1', o.address1); push('address2', o.address2);
      push('zipcode', o.zipcode); push('country', o.country);
      break;
    }
    case 'collaboration':
      push('encrypted', change.after.encrypted);
      rows.push(['members', change.after.members.map((m) => JSON.stringify(m))]);
      break;
    case 'node':
      push('organization', change.after.organization);
      push('collaboration', change.after.collaboration);
      rows.push(['api_key', '(sensitive, generated into the secrets file)']);
      break;
    case 'study':
      push('collaboration', change.after.collaboration);
      rows.push(['organizations', change.after.organizations.map((o) => JSON.stringify(o))]);
      break;
    case 'role':
      push('organization', change.after.organization);
      push('description', change.after.description);
      rows.push(['rules', change.after.rules.map(memberLabel('role', 'rules'))]);
      break;
    case 'algorithm_store':
      push('name', change.after.name);
      rows.push(['collaborations', change.after.everyCollaboration ? ['(every collaboration)'] : change.after.collaborations.map((n) => JSON.stringify(n))]);
      break;
    case 'store_role':
      push('description', change.after.description);
      rows.push(['rules', change.after.rules.map(memberLabel('store_role', 'rules'))]);
      break;
    case 'store_user':
      rows.push(['roles', change.after.roles.map((r) => JSON.stringify(r))]);
      break;
    case 'user': {
      const u = change.after;
      push('organization', u.organization); push('firstname', u.firstname); push('lastname', u.lastname); push('email', u.email);
      if (!u.enabled) rows.push(['enabled', 'false']);
      if (u.requiredActions !== undefined) rows.push(['required_actions', [...u.requiredActions]]);
      rows.push(['roles', u.roles.map((r: RoleRef) => roleLabel(r))]);
      if (u.rules.length > 0) rows.push(['rules', u.rules.map(memberLabel('user', 'rules'))]);
      push('sign_in', signInLabel(u.signIn));
      rows.push(['password', u.signIn === undefined ? passwordText(u.password) : 'none (signs in through the identity provider)']);
      break;
    }
    case 'identity_provider': {
      const p = change.after;
      push('type', p.type); push('display_name', p.displayName); push(p.type === 'oidc' ? 'discovery' : 'metadata', p.metadata);
      push('client_id', p.clientId);
      if (p.clientSecret !== null) rows.push(['client_secret', `${JSON.stringify(p.clientSecret)} (sensitive, read from the environment)`]);
      rows.push(['organizations', p.organizations.map((o) => JSON.stringify(o))]);
      if (p.required) rows.push(['required', 'true']);
      rows.push(['fills', [...p.fills]]);
      if (!p.onLoginPage) rows.push(['on_login_page', 'false']);
      if (!p.enabled) rows.push(['enabled', 'false']);
      rows.push(['drift', [...p.drift]]);
      rows.push(['first_login', '(denied: only the users the config links sign in)']);
      break;
    }
  }
  return rows.filter(([, value]) => !Array.isArray(value) || value.length > 0);
}

const SECRET_TEXT: Readonly<Record<'rotate' | 'reset' | 'remove' | 'send' | 'resend', string>> = {
  rotate: '(sensitive) -> (new key, into the secrets file)',
  remove: '(sensitive) -> none (removed: the user signs in through their identity provider)',
  reset: '(sensitive) -> (new password, from the config)',
  send: 'not sent (an apply stopped after making the user) -> e-mailed by Keycloak',
  resend: '(sensitive) -> (password removed; a new invitation e-mailed by Keycloak)',
};

/** Fields whose name in the model is not how a reviewer reads them. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  everyCollaboration: 'every collaboration', displayName: 'display_name', clientId: 'client_id', clientSecret: 'client_secret', onLoginPage: 'on_login_page',
};

const fieldLabel = (field: string): string => FIELD_LABELS[field] ?? field;

function fieldLines(kind: EntityKind, field: FieldChange, width: number, c: ChalkInstance): string[] {
  const name = `${fieldLabel(field.field)}:`.padEnd(width + 1);
  if ('secret' in field) return [`      ${name} ${c.yellow(SECRET_TEXT[field.secret])}`];
  if ('added' in field) {
    const label = memberLabel(kind, field.field);
    return [
      `      ${field.field}:`,
      ...field.added.map((item) => `        ${c.green('+')} ${label(item)}`),
      ...field.removed.map((item) => `        ${c.red('-')} ${label(item)}`),
    ];
  }
  return [`      ${name} ${formatValue(field.before)} ${c.yellow('->')} ${formatValue(field.after)}`];
}

/** The field whose change renames an entity: shown in the heading, `"Old" -> "New"`. */
const NAME_FIELD: Readonly<Record<EntityKind, string | null>> = {
  organization: 'name', collaboration: 'name', node: null, study: 'name', role: 'name', user: 'username', algorithm_store: null,
  identity_provider: null, store_role: null, store_user: null,
};

/** The lines of one change, as the text plan shows them. */
export function changeLines(change: Change, c: ChalkInstance): string[] {
  const title = `${change.kind} ${c.bold(JSON.stringify(change.address))}`;
  switch (change.action) {
    case 'create': {
      const rows = createAttributes(change);
      const width = Math.max(0, ...rows.map(([field]) => field.length));
      return [
        `  ${c.green('+')} ${title}`,
        ...rows.flatMap(([field, value]) => Array.isArray(value)
          ? [`      ${field}:`, ...value.map((v) => `        ${v}`)]
          : [`      ${`${field}:`.padEnd(width + 1)} ${value}`]),
      ];
    }
    case 'update': {
      const rename = change.fields.find((f) => f.field === NAME_FIELD[change.kind] && 'before' in f);
      const heading = rename && 'before' in rename
        ? `${change.kind} ${c.bold(JSON.stringify(rename.before))} ${c.yellow('->')} ${c.bold(JSON.stringify(rename.after))}`
        : title;
      const fields = change.fields.filter((f) => f !== rename);
      const width = Math.max(0, ...fields.map((f) => fieldLabel(f.field).length));
      return [`  ${c.yellow('~')} ${heading}`, ...fields.flatMap((field) => fieldLines(change.kind, field, width, c))];
    }
    case 'delete':
      return [`  ${c.red('-')} ${title}`];
  }
}

/** Terraform-like text: `+` create, `~` update with `field: old -> new`, `-` delete, and a summary line. */
export function renderPlanText(plan: Plan, options: TextRenderOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const lines: string[] = [];
  if (plan.database.initialize) {
    lines.push(`${c.green('+')} ${plan.database.display} is empty: the vantage6 ${NEWEST_RELEASE} schema, rule catalogue and built-in roles will be created first.`, '');
  }
  const drift = outsideChangeNote(plan);
  if (drift !== null) lines.push(c.yellow.bold(`! ${drift}`), '');
  const database = `${plan.database.display} (vantage6 ${plan.database.vantage6})`;
  for (const note of [unknownNote(plan), unrecordedKeysNote(plan), staleNodeFilesNote(plan), storesDeletingUsersNote(plan)]) if (note !== null) lines.push(c.yellow.bold(`! ${note}`), '');
  if (plan.changes.length === 0) {
    lines.push(c.green.bold('No changes.') + ` The ${targetNoun(plan)} ${database} matches the config.`);
  } else {
    lines.push(`fedctl will make these changes to ${database}:`, '');
    for (const change of plan.changes) lines.push(...changeLines(change, c), '');
    const { add, change, destroy } = plan.summary;
    lines.push(`${c.bold('Plan:')} ${add} to add, ${change} to change, ${destroy} to destroy.`);
  }
  if (plan.adaptedFrom !== undefined) lines.push('', ...adaptedLines(plan.adaptedFrom, c));
  if (plan.access !== undefined) lines.push('', ...accessLines(plan.access, options.showAccess ?? false, c));
  if (plan.accessAcross !== undefined) lines.push('', ...acrossLines(plan.accessAcross, options.showAccess ?? false, c));
  if (plan.violations !== undefined) lines.push('', ...violationLines(plan.violations, options.showAccess ?? false, c));
  if (plan.policyDrift !== undefined) lines.push('', ...policyDriftLines(plan.policyDrift, c));
  if (plan.blocked.length > 0) {
    lines.push('', c.red.bold(`Refused: ${plan.blocked.length} change(s) that cannot be made:`));
    for (const entity of plan.blocked) lines.push(`  ${c.red('!')} ${entity.action} ${entity.kind} ${JSON.stringify(entity.address)}: ${entity.reason}`);
  }
  const notes: string[] = [];
  if (plan.unmanaged.length > 0) {
    if (options.showUnmanaged) {
      lines.push('', 'Not in the config, left alone:');
      for (const entity of plan.unmanaged) {
        const why = entity.serverOwned ? ' (the server\'s own, never pruned)' : entity.account ? ' (fedctl\'s own account, never pruned)' : '';
        lines.push(`  ${c.dim('?')} ${entity.kind} ${JSON.stringify(entity.address)}${c.dim(why)}`);
      }
    } else {
      notes.push(c.dim(`${unmanagedNote(plan)} (--show-unmanaged lists them).`));
    }
  }
  const historyNote = historyOff(plan);
  if (historyNote !== null) notes.push(c.dim(historyNote));
  // The notes follow the summary line directly; after a section, a blank line.
  const afterSection = plan.adaptedFrom !== undefined || plan.access !== undefined || plan.accessAcross !== undefined || plan.violations !== undefined || plan.blocked.length > 0 || plan.policyDrift !== undefined;
  if (notes.length > 0) lines.push(...(afterSection ? [''] : []), ...notes);
  return `${lines.join('\n')}\n`;
}

/** How many entities each adaptation line names before `and N more`: one note is often made to every user. */
const ADAPTED_SHOWN = 3;

/**
 * What a 4.x config was adapted in for vantage6 5, one line per note with
 * the entities it was made to, each at its line in the config (the JSON
 * lists every one).
 */
export function adaptedLines(adapted: AdaptedFrom, c: ChalkInstance): string[] {
  const byNote = new Map<string, string[]>();
  for (const a of adapted.adaptations) {
    let entities = byNote.get(a.note);
    if (entities === undefined) byNote.set(a.note, (entities = []));
    entities.push(a.at === null ? a.entity : `${a.entity} (${a.at})`);
  }
  return [
    c.bold(`Adapted from the vantage6 ${adapted.vantage6} config for vantage6 5 (${adapted.adaptations.length}), as export --for 5.0 adapts a server:`),
    ...[...byNote].map(([note, entities]) => {
      const more = entities.length - ADAPTED_SHOWN;
      return `  ${c.cyan('>')} ${entities.slice(0, ADAPTED_SHOWN).join(', ')}${more > 0 ? ` and ${more} more` : ''}: ${note}`;
    }),
  ];
}

/** The store policies a plan found otherwise than the config says: apply cannot set them, the store's operator deploys them. */
export function policyDriftLines(drift: readonly PolicyDrift[], c: ChalkInstance): string[] {
  const value = (v: StorePolicyValue | null): string => (v === null ? 'unset' : JSON.stringify(v));
  return [
    c.yellow.bold(`Store policies that differ from the config (${drift.length}): no API sets them; the store's operator deploys what fedctl store-policies writes:`),
    ...drift.map((d) => `  ${c.yellow('!')} ${d.store} ${d.policy}: ${value(d.live)} ${c.yellow('->')} ${value(d.config)}`),
  ];
}

/** Nodes whose keys the server made while no apply recorded them, with the command that gives each a recorded one. */
export function unrecordedKeysNote(plan: Plan): string | null {
  const nodes = plan.unrecordedKeys ?? [];
  if (nodes.length === 0) return null;
  return `The server made the key of ${nodes.map((n) => JSON.stringify(n)).join(', ')}, but an apply stopped before recording it. `
    + `Give ${nodes.length === 1 ? 'it' : 'each'} a new key with: fedctl apply CONFIG ${nodes.map((n) => `--rotate-node-key ${JSON.stringify(n)}`).join(' ')}`;
}

export function staleNodeFilesNote(plan: Plan): string | null {
  const nodes = plan.staleNodeFiles ?? [];
  if (nodes.length === 0) return null;
  return `The files of ${nodes.map((n) => JSON.stringify(n)).join(', ')} carry other policies than the config gives the nodes now (their collaboration's algorithm stores, or their own): the nodes go by the files. `
    + `After applying, write ${nodes.length === 1 ? 'it' : 'them'} anew with: fedctl apply CONFIG ${nodes.map((n) => `--rotate-node-key ${JSON.stringify(n)}`).join(' ')} (or edit the deployed files)`;
}

/** What unlinking a 4.x store costs at the store: its users of this server, and how fedctl's account can manage it again. */
export function storesDeletingUsersNote(plan: Plan): string | null {
  const stores = plan.storesDeletingUsers ?? [];
  if (stores.length === 0) return null;
  return `Unlinking ${stores.join(', ')} makes ${stores.length === 1 ? 'the store' : 'each store'} delete its users of this server with their store roles, `
    + 'fedctl\'s account too when it is the store\'s root. To link it again and manage its users, restart the store before linking it '
    + '(its root_user setting makes fedctl\'s account its root anew); linked without that, fedctl\'s account is only its Server Manager there.';
}

/** What the plan is for: a database, or a server reached through its API. */
function targetNoun(plan: Plan): string {
  return plan.database.engine === 'api' ? 'server' : 'database';
}

/** `3 object(s) in the database are not in the config and are left alone`. */
export function unmanagedNote(plan: Plan): string {
  return `${plan.unmanaged.length} object(s) ${plan.database.engine === 'api' ? 'on the server' : 'in the database'} are not in the config and are left alone`;
}

/** Why an apply of this plan is not recorded, or null when it is. */
export function historyOff(plan: Plan): string | null {
  if (plan.history?.kept === false) {
    return 'History is kept only in a database: an apply through the server\'s API is not recorded (the server has no place for fedctl\'s history).';
  }
  return plan.history?.recording === false ? 'History is off: an apply of this plan is not recorded in the database (history: false or --no-history).' : null;
}

/** What a reviewer must know about a database newer than fedctl: what it has that fedctl does not know. */
export function unknownNote(plan: Plan): string | null {
  const unknown = plan.database.unknown ?? [];
  if (unknown.length === 0) return null;
  return `This database has what no vantage6 release up to ${formatMinor(NEWEST_MINOR)} has: ${unknown.join(', ')}. `
    + 'fedctl leaves it alone; a newer fedctl may know this release.';
}

/**
 * The header a reviewer needs when the database is not as fedctl's last
 * apply left it: a `~` may then revert a change made in the UI or the API
 * rather than propose a new one.
 */
export function outsideChangeNote(plan: Plan): string | null {
  const last = plan.history?.lastApply;
  if (!plan.history?.changedOutsideFedctl || !last) return null;
  return `The database changed outside fedctl since the last apply by fedctl, ${describeApply(last)}: `
    + 'changes below may undo what was changed in the UI, the API or by SQL since.';
}
