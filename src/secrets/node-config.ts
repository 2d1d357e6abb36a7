import type { ServerAddress } from '../federation.js';

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
}

/** A YAML scalar: JSON strings are valid YAML double-quoted strings, whatever the name holds. */
const q = (value: string): string => JSON.stringify(value);

/**
 * The node's `policies:` on algorithm stores: the stores linked to its
 * collaboration, as the server lists their URLs (the node compares a task's
 * store with these); nothing when none is linked (then the node takes
 * algorithms from any store).
 */
function storePolicy(urls: readonly string[], indent: string): string[] {
  if (urls.length === 0) return [];
  return [
    `${indent}policies:`,
    `${indent}  # The algorithm stores linked to this node's collaboration: algorithms from other stores are refused.`,
    `${indent}  allowed_algorithm_stores:`,
    ...urls.map((url) => `${indent}    - ${q(url)}`),
  ];
}

/** Which node reads the file: a 4.x node's configuration, or a vantage6 5 node's Helm values. */
export type NodeConfigFormat = 'v4' | 'hq';

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
    ...storePolicy(node.algorithmStores, ''),
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
    // HQ lists (and its node compares) a store's URL without its API's path.
    ...storePolicy(node.algorithmStores.map((url) => new URL(url).origin), '  '),
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
