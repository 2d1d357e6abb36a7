import { referenceCatalog } from './reference-catalog.js';
import { ruleKey, type RuleKey } from './rule-catalog.js';
import {
  catalogueReleaseOf, defaultRolesReleaseOf, describeRange, featuresOfRelease, mayRefuseDottedLogins, usesKeycloak, type Minor, type Release, type VersionRange,
} from './vantage6-versions.js';

/**
 * What a vantage6 server offers a config: the rules of its catalogue and
 * whether it has studies. Validation checks a config against one: the live
 * database's own when there is a database, a release's when there is not.
 */
export interface ServerProfile {
  readonly versions: VersionRange;
  /** The catalogue's rules, in catalogue order. */
  readonly rules: readonly RuleKey[];
  readonly studies: boolean;
  /** It links algorithm stores to collaborations (4.3 onwards). */
  readonly algorithmStores: boolean;
  /** Its login may refuse a username with a dot (4.3.0 and 4.3.1). */
  readonly refusesDottedLogins: boolean;
  /** vantage6 5: users' names and e-mail addresses live in Keycloak, out of HQ's reach; node names have no spaces. */
  readonly keycloak: boolean;
}

/** The built-in roles a release's server writes, with their rules: what a config's users hold through them. */
export function builtInRolesOf(minor: Minor): { name: string; organization: null; rules: RuleKey[] }[] {
  return referenceCatalog(defaultRolesReleaseOf(minor)).defaultRoles.map((role) => ({ name: role.name, organization: null, rules: [...role.rules] }));
}

/** `vantage6 4.10 to 4.12`: how messages name the server a config is checked against. */
export function describeServer(profile: Pick<ServerProfile, 'versions'>): string {
  return `vantage6 ${describeRange(profile.versions)}`;
}

/** The profile of a chosen release, from the reference data of the carried release with the same catalogue. */
export function releaseProfile({ minor, patch }: Release): ServerProfile {
  const versions = { from: minor, to: minor };
  return {
    versions,
    rules: referenceCatalog(catalogueReleaseOf(minor)).rules.map(ruleKey),
    studies: featuresOfRelease(minor).studies,
    algorithmStores: featuresOfRelease(minor).algorithmStores,
    refusesDottedLogins: mayRefuseDottedLogins(versions, patch),
    keycloak: usesKeycloak(minor),
  };
}
