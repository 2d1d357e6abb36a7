import { Chalk } from 'chalk';
import { LIST_KINDS, type AccessCounts, type AccessQuestion, type HolderLine, type UserAccessReport } from '../access/access-report.js';
import { textTable } from './text-table.js';

/** How many of a permission's targets a table shows; --json has them all. */
const SHOWN_TARGETS = 3;

function targets(on: readonly string[]): string {
  return on.length <= SHOWN_TARGETS ? on.join(', ') : `${on.slice(0, SHOWN_TARGETS).join(', ')} and ${on.length - SHOWN_TARGETS} more`;
}

const PLURAL = { organization: 'organizations', collaboration: 'collaborations', node: 'nodes', user: 'users', role: 'roles' } as const;

/** One user's access as text: their roles, a table of what they may do, and what the server lists to them. */
export function renderUserReport(report: UserAccessReport, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const of = report.organization === null ? '' : ` of organization ${JSON.stringify(report.organization)}`;
  const lines = [c.bold(`User ${JSON.stringify(report.username)}${of}`), `Roles: ${report.roles.length === 0 ? 'none' : report.roles.join(', ')}`];
  if (report.signIn !== undefined) {
    lines.push(`Signs in: through identity provider ${JSON.stringify(report.signIn.provider)} as ${JSON.stringify(report.signIn.subject)}, with no vantage6 password`);
  }
  lines.push('');
  if (!report.enabled) {
    lines.push('  Disabled: they cannot log in, so they may do nothing and the server lists them nothing (their roles are kept).');
    return `${lines.join('\n')}\n`;
  }
  if (report.permissions.length === 0) lines.push('  No permissions.');
  else {
    lines.push(...textTable(['RESOURCE', 'OPERATION', 'SCOPE', 'THROUGH', 'ON'],
      report.permissions.map((p) => [p.resource, p.operation, p.scope, p.via.join(', '), targets(p.on)]), '  '));
  }
  const lists = LIST_KINDS.map((kind) => {
    const names = report.lists[kind];
    return names === null ? `${PLURAL[kind]}: refused` : `${names.length} ${names.length === 1 ? kind : PLURAL[kind]}`;
  });
  lines.push('', `The server lists to them: ${lists.join(', ')} (--json names them).`);
  return `${lines.join('\n')}\n`;
}

/** Who can do something, as a table. */
export function renderHolders(question: AccessQuestion, on: string | null, holders: readonly HolderLine[], color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const what = `${question.operation.toLowerCase()} ${question.resource}${on === null ? '' : ` on ${JSON.stringify(on)}`}`;
  const heading = c.bold(`${holders.length === 0 ? 'No user' : holders.length === 1 ? '1 user' : `${holders.length} users`} can ${what}.`);
  if (holders.length === 0) return `${heading}\n`;
  const rows = holders.map((h) => [h.username, h.organization ?? '', h.scope, h.via.join(', '), targets(h.on)]);
  return `${[heading, '', ...textTable(['USER', 'ORGANIZATION', 'SCOPE', 'THROUGH', 'ON'], rows, '  ')].join('\n')}\n`;
}

/** Every user at a glance: organization, how many permissions, how many of them of global scope, roles. */
export function renderAccessSummary(reports: readonly AccessCounts[], source: string, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  // How each signs in, where any signs in through an identity provider (vantage6 5); the others with a password.
  const signIns = reports.some((r) => r.signsInThrough !== undefined);
  const rows = reports.map((r) => [r.username, r.organization ?? '', String(r.permissions), String(r.global), ...(signIns ? [r.signsInThrough ?? '(password)'] : []), r.roles.join(', ')]);
  return `${[
    c.bold(`${reports.length} user(s) in ${source}.`), '',
    ...textTable(['USER', 'ORGANIZATION', 'PERMISSIONS', 'GLOBAL', ...(signIns ? ['SIGNS IN THROUGH'] : []), 'ROLES'], rows, '  '),
    '', c.dim('fedctl access --user NAME shows what one user can do; --who-can RESOURCE:OPERATION who can do something.'),
  ].join('\n')}\n`;
}
