import type { ChalkInstance } from 'chalk';
import type { AccessAcross, AccessChangeGroup, AccessChanges, AccessItem, GuardrailViolation } from '../plan/plan.js';

/** How much of the access changes a plan shows when not asked for all of it (`--show-access`). */
const SHOWN = { groups: 10, users: 5, targets: 6 } as const;

function list(values: readonly string[], shown: number, all: boolean): string {
  if (all || values.length <= shown) return values.join(', ');
  return `${values.slice(0, shown).join(', ')} and ${values.length - shown} more`;
}

function itemLine(sign: '+' | '-', item: AccessItem, all: boolean): string {
  const on = item.on.length === 1 && (item.on[0] === 'everything' || item.on[0] === 'their own') ? item.on[0] : `on ${list(item.on, SHOWN.targets, all)}`;
  return `${sign} ${item.resource}: ${item.operation} (${item.scope}) ${on}`;
}

function who(group: AccessChangeGroup): string {
  const users = group.users.length === 1 ? `user ${JSON.stringify(group.users[0])}` : `${group.users.length} users`;
  return group.organizations > 1 ? `${users} in ${group.organizations} organizations` : users;
}

/**
 * The lines of a plan's access changes: per group of users changed the same
 * way, what they gain and lose and why; notable ones (global scope,
 * management of users, roles or organizations) marked `!`. Bounded unless
 * `all`. Shared by the text and Markdown renderers.
 */
export function accessLines(access: AccessChanges, all: boolean, c: ChalkInstance): string[] {
  const lines = [c.bold(`Access: ${access.users} user(s) gain or lose permissions.`)];
  const groups = all ? access.groups : access.groups.slice(0, SHOWN.groups);
  for (const group of groups) {
    lines.push('', `  ${group.notable ? c.red.bold('!') : c.yellow('~')} ${who(group)}${group.notable ? c.red(' (global scope or management)') : ''}`);
    for (const gain of group.gains) lines.push(`      ${c.green(itemLine('+', gain, all))}`);
    for (const loss of group.losses) lines.push(`      ${c.red(itemLine('-', loss, all))}`);
    for (const cause of group.causes) lines.push(c.dim(`      because ${cause}`));
    if (group.users.length > 1) lines.push(c.dim(`      users: ${list(group.users, SHOWN.users, all)}`));
  }
  const hidden = access.groups.length - groups.length + (access.unlistedGroups ?? 0);
  const cut = hidden > 0 || (!all && access.groups.some((g) => g.users.length > SHOWN.users || [...g.gains, ...g.losses].some((i) => i.on.length > SHOWN.targets)));
  if (hidden > 0) lines.push('', `  ... and ${hidden} more group(s) of users`);
  if (cut) lines.push(c.dim('  (--show-access lists all of it)'));
  return lines;
}

/** The lines of the guardrails a plan breaks: which, by whom, how and why. Users bounded unless `all`. */
export function violationLines(violations: readonly GuardrailViolation[], all: boolean, c: ChalkInstance): string[] {
  const lines = [c.red.bold(`Guardrails: the plan breaks ${new Set(violations.map((v) => v.guardrail)).size} of the config's guardrails:`)];
  for (const violation of violations) {
    const users = violation.users.length === 1 ? `user ${JSON.stringify(violation.users[0])}` : `${violation.users.length} users`;
    lines.push('', `  ${c.red('\u2717')} ${JSON.stringify(violation.guardrail)}: ${users} ${violation.breach}`);
    for (const cause of violation.causes) lines.push(c.dim(`      because ${cause}`));
    if (violation.users.length > 1) lines.push(c.dim(`      users: ${list(violation.users, SHOWN.users, all)}`));
  }
  return lines;
}

/**
 * The lines of the comparison with the server a federation moves from: per
 * group of users, what they could do there and cannot here (`-`), what they
 * can do here and could not there (`+`), and why. Bounded unless `all`.
 */
export function acrossLines(across: AccessAcross, all: boolean, c: ChalkInstance): string[] {
  const where = `${across.server} (vantage6 ${across.vantage6})`;
  if (across.users === 0) return [c.bold(`Access compared with ${where}: every user can do here what they could there, and no more.`)];
  const [, ...rest] = accessLines(across, all, c);
  return [c.bold(`Access compared with ${where}: ${across.users} user(s) can do otherwise here (- there only, + here only).`), ...rest];
}
