import { CheckContext, list, type Entry } from './check-context.js';

/**
 * Previous names of renamed entities, by the identity key of the entity now.
 * A previous name must not be another entity's name, nor claimed twice.
 */
export function checkPreviousNames(ctx: CheckContext, kind: string, entries: Entry[], field: string, nameOf: (entry: Entry) => string | null,
  keyOf: (entry: Entry, name: string) => string): Record<string, string[]> {
  const current = new Set(entries.flatMap((entry) => {
    const name = nameOf(entry);
    return name === null ? [] : [keyOf(entry, name)];
  }));
  const claimed = new Map<string, Entry>();
  const out = new Map<string, string[]>();
  for (const entry of entries) {
    const name = nameOf(entry);
    if (name === null) continue;
    list(entry.value[field]).forEach((item, index) => {
      if (typeof item !== 'string') return;
      const key = keyOf(entry, item);
      if (item === name) {
        ctx.error(entry, [field, index], `a previous name cannot be the current name ${JSON.stringify(name)}`);
      } else if (current.has(key)) {
        ctx.error(entry, [field, index], `${JSON.stringify(item)} is the name of another ${kind} in the config`, 'a rename needs the old name to be free');
      } else if (claimed.has(key)) {
        ctx.error(entry, [field, index], `${JSON.stringify(item)} is also a previous name of another ${kind}`,
          `at ${ctx.where(claimed.get(key) as Entry, [field])}; only one can take over the old ${kind}`);
      } else {
        claimed.set(key, entry);
        const now = keyOf(entry, name);
        out.set(now, [...(out.get(now) ?? []), item]);
      }
    });
  }
  return Object.fromEntries(out);
}
