import { Chalk } from 'chalk';
import { ENTITY_KINDS, type EntityKind } from '../federation.js';
import type { Change, Plan } from '../plan/plan.js';
import { accessLines, acrossLines, violationLines } from './render-access.js';
import { adaptedLines, changeLines, historyOff, outsideChangeNote, policyDriftLines, staleNodeFilesNote, storesDeletingUsersNote, unknownNote, unmanagedNote, unrecordedKeysNote } from './render-plan-text.js';

const PLURAL: Readonly<Record<EntityKind, string>> = {
  organization: 'Organizations', collaboration: 'Collaborations', node: 'Nodes', study: 'Studies', role: 'Roles', user: 'Users',
  algorithm_store: 'Algorithm stores', identity_provider: 'Identity providers', store_role: 'Store roles', store_user: 'Store users',
};

const SYMBOL: Readonly<Record<Change['action'], string>> = { create: '+', update: '~', delete: '-' };

/** Backticks in names must not end the code span they are shown in. */
function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  return `${fence}${text}${fence}`;
}

/** Where and when a plan was made, for the comment that shows it. */
export interface CommentContext {
  /** The config paths as given on the command line: one comment per config, found again by its marker. */
  readonly configs: readonly string[];
  readonly madeAt: Date;
  /** The commit the plan was made at, when CI says. */
  readonly commit: string | null;
}

/**
 * The invisible line a comment of this config's plans carries, so that CI
 * updates the one comment in place instead of adding one at every push:
 * `<!-- fedctl plan: federation -->` for `fedctl plan federation/`.
 */
export function commentMarker(configs: readonly string[]): string {
  const names = configs.map((config) => config.replaceAll('\\', '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '') || '.');
  // `--` would end the HTML comment early.
  return `<!-- fedctl plan: ${names.join(' ').replace(/-{2,}/g, '-')} -->`;
}

/**
 * A compact plan for a pull-request comment: the summary first, then one
 * collapsible section per kind with the same lines as the text plan; with a
 * context, when and where it was made and the comment's marker last.
 */
export function renderPlanMarkdown(plan: Plan, context?: CommentContext): string {
  const plain = new Chalk({ level: 0 });
  const { add, change, destroy } = plan.summary;
  const out: string[] = [];
  out.push(plan.changes.length === 0
    ? `### fedctl plan: no changes`
    : `### fedctl plan: ${add} to add, ${change} to change, ${destroy} to destroy`);
  out.push('', `Database: ${code(plan.database.display)}, vantage6 ${plan.database.vantage6}${plan.database.initialize ? ' (empty: the vantage6 schema will be created first)' : ''}`);
  for (const note of [unknownNote(plan), unrecordedKeysNote(plan), staleNodeFilesNote(plan), storesDeletingUsersNote(plan), outsideChangeNote(plan)]) if (note !== null) out.push('', `> [!WARNING]\n> ${note}`);
  for (const kind of ENTITY_KINDS) {
    const changes = plan.changes.filter((c) => c.kind === kind);
    if (changes.length === 0) continue;
    const counts = (['create', 'update', 'delete'] as const)
      .map((action) => [action, changes.filter((c) => c.action === action).length] as const)
      .filter(([, n]) => n > 0)
      .map(([action, n]) => `${SYMBOL[action]}${n}`)
      .join(' ');
    out.push('', `<details><summary><b>${PLURAL[kind]}</b> (${counts}): ${changes.map((c) => code(`${SYMBOL[c.action]} ${c.address}`)).slice(0, 5).join(', ')}${changes.length > 5 ? ', …' : ''}</summary>`, '');
    out.push('```diff', ...changes.flatMap((c) => changeLines(c, plain).map((line) => line.replace(/^ {2}/, ''))), '```', '', '</details>');
  }
  if (plan.adaptedFrom !== undefined) {
    const [heading, ...lines] = adaptedLines(plan.adaptedFrom, plain);
    out.push('', `<details><summary><b>${heading}</b></summary>`, '', '```text', ...lines.map((line) => line.replace(/^ {2}> /, '')), '```', '', '</details>');
  }
  if (plan.access !== undefined) {
    const [heading, ...lines] = accessLines(plan.access, false, plain);
    const notable = plan.access.groups.filter((g) => g.notable).length;
    out.push('', `<details${notable > 0 ? ' open' : ''}><summary><b>${heading}</b>${notable > 0 ? ` ${notable} notable (global scope or management)` : ''}</summary>`, '',
      // A diff block colours only lines that start with + or -: gains and losses move their sign to the front.
      '```diff', ...lines.filter((line) => line !== '').map((line) => line.replace(/^ {2}/, '').replace(/^ {4}([+-]) /, '$1     ')), '```', '', '</details>');
  }
  if (plan.accessAcross !== undefined) {
    const [heading, ...lines] = acrossLines(plan.accessAcross, false, plain);
    out.push('', `<details open><summary><b>${heading}</b></summary>`, '',
      '```diff', ...lines.filter((line) => line !== '').map((line) => line.replace(/^ {2}/, '').replace(/^ {4}([+-]) /, '$1     ')), '```', '', '</details>');
  }
  if (plan.violations !== undefined) {
    const [heading, ...lines] = violationLines(plan.violations, true, plain);
    out.push('', `**${heading}**`, '', '```diff', ...lines.filter((line) => line !== '').map((line) => line.replace(/^ {2}\u2717/, '-')), '```');
  }
  if (plan.policyDrift !== undefined) {
    const [heading, ...lines] = policyDriftLines(plan.policyDrift, plain);
    out.push('', `**${heading}**`, '', ...lines.map((line) => `- ${line.replace(/^ {2}! /, '')}`));
  }
  if (plan.blocked.length > 0) {
    out.push('', `**Refused changes** (the plan cannot be applied):`, '');
    for (const b of plan.blocked) out.push(`- ${b.action} ${b.kind} ${code(b.address)}: ${b.reason}`);
  }
  if (plan.unmanaged.length > 0) out.push('', `${unmanagedNote(plan)}.`);
  const historyNote = historyOff(plan);
  if (historyNote !== null) out.push('', historyNote);
  if (context !== undefined) {
    const when = `${context.madeAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    out.push('', `<sub>Planned ${when}${context.commit === null ? '' : ` at ${context.commit.slice(0, 12)}`} by fedctl.</sub>`, commentMarker(context.configs));
  }
  return `${out.join('\n')}\n`;
}
