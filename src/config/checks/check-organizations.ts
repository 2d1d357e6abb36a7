import type { Organization } from '../../federation.js';
import { CheckContext, optionalText, text, type Entry } from './check-context.js';

/** Organizations: unique names. */
export function checkOrganizations(ctx: CheckContext, entries: Entry[]): Organization[] {
  const byName = ctx.unique('organization', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
  return [...byName.values()].map(({ value }) => ({
    name: value.name as string,
    domain: optionalText(value.domain),
    address1: optionalText(value.address1),
    address2: optionalText(value.address2),
    zipcode: optionalText(value.zipcode),
    country: optionalText(value.country),
  }));
}
