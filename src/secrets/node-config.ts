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
}

/** A YAML scalar: JSON strings are valid YAML double-quoted strings, whatever the name holds. */
const q = (value: string): string => JSON.stringify(value);

/**
 * A ready vantage6 node configuration file (`v6 node start --config FILE`),
 * keys in the order of vantage6's own template, with placeholders for what
 * only the node's operator knows: where task data goes, the data sources,
 * and (encrypted collaborations) the organization's private key.
 */
export function renderNodeConfig(node: NodeConfigInput): string {
  return [
    `# vantage6 node configuration of node ${q(node.name)}`,
    `# (organization ${q(node.organization)}, collaboration ${q(node.collaboration)}), made by fedctl on ${node.createdAt}.`,
    '# Replace every CHANGE-ME, then start the node with: v6 node start --config THIS-FILE',
    '# api_key is the node\'s secret: keep this file private.',
    `api_key: ${q(node.apiKey)}`,
    `api_path: ${q(node.server.apiPath)}`,
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
