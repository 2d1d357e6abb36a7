import { dump } from 'js-yaml';
import { HELM_POLICY_NAMES, USER_LIST_POLICIES } from '../catalog/store-catalog.js';
import { FedctlError } from '../errors.js';
import type { StorePolicies, StorePolicyValue } from '../federation.js';

/** Which store reads the file: a 4.x store's configuration, or vantage6 5's store chart values. */
export type StorePoliciesFormat = 'v4' | 'hq';

/**
 * What a store's operator deploys for the policies the config gives it: the
 * `policies:` block of a 4.x store's configuration file, or the
 * `store.policies` Helm values of vantage6 5's store chart. A store rewrites
 * its policies from these at every start; no API sets them.
 */
export function renderStorePolicies({ store, policies }: StorePolicies, format: StorePoliciesFormat, serverUrl: string | null): string {
  const header = [
    `# The policies of algorithm store ${store}, as fedctl's config gives them.`,
    format === 'hq'
      ? '# Give these Helm values with the store chart\'s others (helm upgrade ... -f THIS-FILE); the store applies them at its next start.'
      : '# Put this block in the store\'s configuration file, in place of its policies:, and restart the store.',
  ];
  const body = format === 'hq'
    ? { store: { policies: Object.fromEntries(Object.entries(policies).map(([name, value]) => [HELM_POLICY_NAMES[name] ?? name, value])) } }
    : { policies: Object.fromEntries(Object.entries(policies).map(([name, value]) => [name, name in USER_LIST_POLICIES ? v4Users(name, value, serverUrl) : value])) };
  return `${header.join('\n')}\n${dump(body, { lineWidth: -1 })}`;
}

/** A 4.x store names a user of a policy with their server, as it whitelisted it. */
function v4Users(policy: string, value: StorePolicyValue, serverUrl: string | null): { username: string; server: string }[] {
  if (serverUrl === null) {
    throw new FedctlError('CONFIG_INVALID', `a 4.x store names the users of ${policy} with their server, and the config names no server`,
      'add server: { url: … } (the server\'s API as the store whitelisted it)');
  }
  return (Array.isArray(value) ? value : [String(value)]).map((username) => ({ username, server: serverUrl }));
}

/** A file name for a store's policies: its host and port, and its path, safe in every file system. */
export function storePoliciesFileName(store: string): string {
  const url = new URL(store);
  return `${`${url.host}${url.pathname}`.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/_+$/, '')}.yaml`;
}
