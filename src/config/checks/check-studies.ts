import { describeServer } from '../../catalog/server-profile.js';
import { FEATURES, formatMinor } from '../../catalog/vantage6-versions.js';
import { sortedUnique, type Collaboration, type Study } from '../../federation.js';
import { didYouMean } from '../../suggest.js';
import { CheckContext, list, text, type Entry } from './check-context.js';

export function checkStudies(ctx: CheckContext, entries: Entry[], collaborations: readonly Collaboration[], orgNames: ReadonlySet<string>): Study[] {
  const byName = ctx.unique('study', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
  const collabByName = new Map(collaborations.map((c) => [c.name, c]));
  const studies: Study[] = [];
  if (!ctx.server.studies) {
    for (const entry of byName.values()) {
      ctx.error(entry, ['name'], `${describeServer(ctx.server)} has no studies`,
        `studies come with vantage6 ${formatMinor(FEATURES.studies.since)}; remove the study or upgrade the server first`);
    }
    return studies;
  }
  for (const entry of byName.values()) {
    const collaborationName = text(entry.value.collaboration);
    if (collaborationName === null) continue;
    const collaboration = collabByName.get(collaborationName);
    if (!collaboration) {
      ctx.error(entry, ['collaboration'], `unknown collaboration ${JSON.stringify(collaborationName)}`, didYouMean(collaborationName, collabByName.keys()) ?? 'declare it under collaborations');
      continue;
    }
    const organizations: string[] = [];
    list(entry.value.organizations).forEach((item, index) => {
      const organization = text(item);
      if (organization === null) return;
      if (organizations.includes(organization)) {
        ctx.error(entry, ['organizations', index], `organization ${JSON.stringify(organization)} is listed twice`);
        return;
      }
      if (!ctx.reference(entry, ['organizations', index], 'organization', organization, orgNames)) return;
      if (!collaboration.members.includes(organization)) {
        ctx.error(entry, ['organizations', index], `organization ${JSON.stringify(organization)} is not a member of collaboration ${JSON.stringify(collaborationName)}`, 'a study can only include members of its collaboration; add it to the collaboration\'s members');
        return;
      }
      organizations.push(organization);
    });
    studies.push({ name: entry.value.name as string, collaboration: collaborationName, organizations: sortedUnique(organizations) });
  }
  return studies;
}
