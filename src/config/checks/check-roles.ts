import { DEFAULT_ROLE_NAMES, RESERVED_ROLE_NAMES } from '../../catalog/rule-catalog.js';
import { roleRefKey, type Role, type RoleRef } from '../../federation.js';
import { CheckContext, optionalText, text, type Entry } from './check-context.js';

/** Custom roles: unique (name, organization), not a built-in role's name, rules of the server's catalogue. */
export function checkRoles(ctx: CheckContext, entries: Entry[], orgNames: ReadonlySet<string>): Role[] {
  const identity = (e: Entry): RoleRef | null => {
    const name = text(e.value.name);
    if (name === null) return null;
    const organization = e.value.organization === undefined ? null : text(e.value.organization);
    return { name, organization };
  };
  const describe = (r: RoleRef): string => `${JSON.stringify(r.name)}${r.organization === null ? '' : ` of organization ${JSON.stringify(r.organization)}`}`;
  const byKey = ctx.unique('role', identity, roleRefKey, entries, 'name', describe);
  const roles: Role[] = [];
  for (const entry of byKey.values()) {
    const ref = identity(entry) as RoleRef;
    if (RESERVED_ROLE_NAMES.has(ref.name)) {
      ctx.error(entry, ['name'], `a custom role cannot be named ${JSON.stringify(ref.name)}`, 'the server finds this built-in role by name alone; choose another name');
      continue;
    }
    if (DEFAULT_ROLE_NAMES.has(ref.name)) {
      ctx.error(entry, ['name'], `${JSON.stringify(ref.name)} is a built-in role`, 'give it to users without declaring it, or choose another name for a custom role');
      continue;
    }
    if (ref.organization !== null && !ctx.reference(entry, ['organization'], 'organization', ref.organization, orgNames)) continue;
    roles.push({ ...ref, description: optionalText(entry.value.description), rules: ctx.expandRules(entry, ['rules'], entry.value.rules) });
  }
  return roles;
}
