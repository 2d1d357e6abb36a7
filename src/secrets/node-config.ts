import { createHash } from 'node:crypto';
import type { NodePolicies, ServerAddress } from '../federation.js';

/** What a node's configuration file is made from. */
export interface NodeConfigInput {
  readonly name: string;
  readonly organization: string;
  readonly collaboration: string;
  readonly apiKey: string;
  /** The collaboration's setting: a node whose setting differs refuses to start. */
  readonly encrypted: boolean;
  readonly server: ServerAddress;
  readonly createdAt: string;
  /** The API URLs of the algorithm stores linked to its collaboration (the config's): the node runs algorithms from these only. */
  readonly algorithmStores: readonly string[];
  /** The node's own policies, as the config says them. */
  readonly policies?: NodePolicies;
  /** The users of `policies.allowedUsers`, with the ids the server gave them. */
  readonly allowedUsers?: readonly { readonly username: string; readonly id: number }[];
}

/** A YAML scalar: JSON strings are valid YAML double-quoted strings, whatever the name holds. */
const q = (value: string): string => JSON.stringify(value);

/**
 * The node's `policies:`, in the keys 4.x and vantage6 5 nodes both read:
 * the config's, and the algorithm stores linked to its collaboration as the
 * server lists their URLs (the node compares a task's store with these).
 * Nothing the config leaves out: then the node's defaults hold (any
 * algorithm, from any store, for any user of its collaboration).
 */
function nodePolicies(node: NodePolicyInput, format: NodeConfigFormat, indent: string): string[] {
  // HQ lists (and its node compares) a store's URL without its API's path.
  const urls = format === 'hq' ? node.algorithmStores.map((url) => new URL(url).origin) : node.algorithmStores;
  const policies = node.policies ?? {};
  const users = node.allowedUsers;
  const list = (key: string, values: readonly string[] | undefined, why: string): string[] => (values === undefined ? [] : [
    `${indent}  # ${why}`,
    ...(values.length === 0 ? [`${indent}  ${key}: []`] : [`${indent}  ${key}:`, ...values.map((value) => `${indent}    - ${q(value)}`)]),
  ]);
  const lines = [
    ...list('allowed_algorithms', policies.allowedAlgorithms, 'The algorithms this node runs: image names, or regular expressions.'),
    ...list('allowed_algorithm_stores', urls.length === 0 ? undefined : urls,
      'The algorithm stores linked to this node\'s collaboration: algorithms from other stores are refused.'),
    ...list('allowed_organizations', policies.allowedOrganizations, 'Only users of these organizations may send this node tasks.'),
    // By id as a string: the node compares the task's user's id, as text, with these.
    ...(users === undefined ? [] : [
      `${indent}  # These users may send this node tasks too, by the ids the server gave them.`,
      ...(users.length === 0 ? [`${indent}  allowed_users: []`]
        : [`${indent}  allowed_users:`, ...users.map(({ id, username }) => `${indent}    - ${q(String(id))}   # ${q(username)}`)]),
    ]),
    ...(policies.requireAlgorithmPull === undefined ? [] : [`${indent}  require_algorithm_pull: ${policies.requireAlgorithmPull}`]),
    ...(policies.allowEitherWhitelistOrStore === undefined ? [] : [
      `${indent}  # ${policies.allowEitherWhitelistOrStore ? 'Either' : 'Both'} allowed_algorithms ${policies.allowEitherWhitelistOrStore ? 'or' : 'and'} allowed_algorithm_stores must allow an algorithm.`,
      `${indent}  allow_either_whitelist_or_store: ${policies.allowEitherWhitelistOrStore}`,
    ]),
    ...(policies.allowBasicsAlgorithm === undefined ? [] : [`${indent}  allow_basics_algorithm: ${policies.allowBasicsAlgorithm}`]),
  ];
  return lines.length === 0 ? [] : [`${indent}policies:`, ...lines];
}

/** Which node reads the file: a 4.x node's configuration, or a vantage6 5 node's Helm values. */
export type NodeConfigFormat = 'v4' | 'hq';

/** What a node's policies are made of. */
export type NodePolicyInput = Pick<NodeConfigInput, 'algorithmStores' | 'policies' | 'allowedUsers'>;

/**
 * A digest of the policies a node's file carries, as the file writes them:
 * kept beside the files (not secret: the config says as much) so that a plan
 * can name the files whose policies the config has changed since.
 */
export function nodePoliciesDigest(node: NodePolicyInput, format: NodeConfigFormat): string {
  return createHash('sha256').update(`${format}\n${nodePolicies(node, format, '').join('\n')}`).digest('hex').slice(0, 32);
}

/**
 * A ready vantage6 node configuration file, with placeholders for what only
 * the node's operator knows: where task data goes, the data sources, and
 * (encrypted collaborations) the organization's private key.
 */
export function renderNodeConfig(node: NodeConfigInput, format: NodeConfigFormat): string {
  return format === 'hq' ? renderHqValues(node) : renderV4Config(node);
}

/** A 4.x node's file (`v6 node start --config FILE`), keys in the order of vantage6's own template. */
function renderV4Config(node: NodeConfigInput): string {
  return [
    `# vantage6 node configuration of node ${q(node.name)}`,
    `# (organization ${q(node.organization)}, collaboration ${q(node.collaboration)}), made by fedctl on ${node.createdAt}.`,
    '# Replace every CHANGE-ME, then start the node with: v6 node start --config THIS-FILE',
    '# api_key is the node\'s secret: keep this file private.',
    `api_key: ${q(node.apiKey)}`,
    `api_path: ${q(node.server.apiPath ?? '/api')}`,
    '# The data sources of this node: label (unique, "default" first), uri, and type:',
    '# csv, parquet, sql, sparql, excel or other.',
    'databases:',
    '  - label: default',
    '    uri: "/CHANGE-ME/path/to/data.csv"',
    '    type: csv',
    'encryption:',
    `  # The collaboration is ${node.encrypted ? '' : 'not '}encrypted; the node refuses to start when this differs.`,
    `  enabled: ${node.encrypted}`,
    ...(node.encrypted
      ? ['  # The organization\'s RSA private key; the node uploads its public key at its first start.', '  private_key: "/CHANGE-ME/path/to/private_key.pem"']
      : ['  private_key: null']),
    ...nodePolicies(node, 'v4', ''),
    'logging:',
    '  level: DEBUG',
    '  use_console: true',
    '  backup_count: 5',
    '  max_size: 1024',
    `port: ${node.server.port}`,
    `server_url: ${q(node.server.url)}`,
    '# A folder on the node machine for task data.',
    'task_dir: "/CHANGE-ME/path/to/tasks"',
    '',
  ].join('\n');
}

/**
 * A vantage6 5 node's Helm values (`helm install ... -f THIS-FILE`), as
 * vantage6's own `node_config.j2` lays them out: the node logs in to
 * Keycloak as the client HQ named after it, with the secret HQ made.
 */
function renderHqValues(node: NodeConfigInput): string {
  const keycloak = node.server.keycloak;
  return [
    `# vantage6 5 node values of node ${q(node.name)}`,
    `# (organization ${q(node.organization)}, collaboration ${q(node.collaboration)}), made by fedctl on ${node.createdAt}.`,
    '# Replace every CHANGE-ME, then install the node chart with: helm install NAME vantage6/node -f THIS-FILE',
    '# apiKey is the node\'s secret (its Keycloak client\'s): keep this file private.',
    'node:',
    `  name: ${q(node.name)}`,
    `  apiKey: ${q(node.apiKey)}`,
    '  keycloak:',
    ...(keycloak === null
      ? ['    # The config\'s server: block names no keycloak: give the URL the node reaches Keycloak at.', '    url: "CHANGE-ME"', '    realm: "vantage6"']
      : [`    url: ${q(keycloak.url)}`, `    realm: ${q(keycloak.realm)}`]),
    '  hq:',
    `    url: ${q(node.server.url)}`,
    `    port: ${node.server.port}`,
    `    path: ${q(node.server.apiPath ?? '/hq')}`,
    '  encryption:',
    `    # The collaboration is ${node.encrypted ? '' : 'not '}encrypted; the node refuses to start when this differs.`,
    `    enabled: ${node.encrypted}`,
    ...(node.encrypted ? ['    # The organization\'s RSA private key.', '    private_key: "/CHANGE-ME/path/to/private_key.pem"'] : []),
    ...nodePolicies(node, 'hq', '  '),
    '  # The data sources of this node.',
    '  databases:',
    '    fileBased:',
    '      - name: default',
    '        uri: "/CHANGE-ME/path/to/data.csv"',
    '        type: csv',
    '        volumePath: "/CHANGE-ME/path/to"',
    '        originalName: data.csv',
    '  persistence:',
    '    tasks:',
    '      # A folder on the node machine for task data.',
    '      hostPath: "/CHANGE-ME/path/to/tasks"',
    '',
  ].join('\n');
}
