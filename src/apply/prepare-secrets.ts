import { randomInt, randomUUID } from 'node:crypto';
import type { Environment } from '../config/interpolate.js';
import { FedctlError } from '../errors.js';
import { nodeKey, type PasswordSource } from '../federation.js';
import type { Change } from '../plan/plan.js';
import { hashSecrets, type HashOptions } from './hash-pool.js';
import type { SecretsContent } from '../secrets/secrets-store.js';
import { setOwn } from '../own-property.js';

/** Hashes for the rows apply inserts, and the plaintexts that go into the secrets file. */
export interface PreparedSecrets {
  /** bcrypt hash of each new or rotated node's API key, by `nodeKey`. */
  readonly nodeKeyHashes: ReadonlyMap<string, string>;
  /** bcrypt hash of each new or reset user's password, by username; users without password are absent. */
  readonly passwordHashes: ReadonlyMap<string, string>;
  /** What the secrets file gains. */
  readonly fileEntries: SecretsContent;
}

const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const SYMBOLS = '!#%+-=?@^_~';

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)] as string;
}

/** 24 random characters with every class the vantage6 password policy asks for. */
export function generatePassword(): string {
  const all = LOWER + UPPER + DIGITS + SYMBOLS;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS), ...Array.from({ length: 20 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

/**
 * Make the secrets a plan needs: a uuid4 API key per new or rotated node (as
 * vantage6's generate_apikey), the password of each new or reset user, all
 * bcrypt-hashed in parallel.
 */
export async function prepareSecrets(
  changes: readonly Change[],
  env: Environment,
  cost: number,
  hashing: HashOptions = {},
): Promise<PreparedSecrets> {
  const createdAt = new Date().toISOString();
  const nodes: { key: string; plaintext: string }[] = [];
  const users: { username: string; plaintext: string }[] = [];
  const fileNodes: Record<string, SecretsContent['nodes'][string]> = {};
  const fileUsers: Record<string, SecretsContent['users'][string]> = {};
  const missing: string[] = [];
  const addNode = (node: { name: string; organization: string; collaboration: string }): void => {
    const apiKey = randomUUID();
    nodes.push({ key: nodeKey(node), plaintext: apiKey });
    setOwn(fileNodes, node.name, { organization: node.organization, collaboration: node.collaboration, api_key: apiKey, created_at: createdAt });
  };
  const addUser = (username: string, source: PasswordSource): void => {
    // An invitation is vantage6 5's, which is never reached through a database.
    if (source === null || source.from === 'invite') return;
    if (source.from === 'generate') {
      const password = generatePassword();
      users.push({ username, plaintext: password });
      setOwn(fileUsers, username, { password, created_at: createdAt });
      return;
    }
    const value = env[source.variable];
    if (value === undefined || value === '') missing.push(`${source.variable} (password of ${username})`);
    else users.push({ username, plaintext: value });
  };
  for (const change of changes) {
    if (change.action === 'create' && change.kind === 'node') addNode(change.after);
    if (change.action === 'create' && change.kind === 'user') addUser(change.after.username, change.after.password);
    if (change.action !== 'update') continue;
    const requested = change.fields.some((field) => 'secret' in field);
    if (requested && change.kind === 'node') addNode(change.after);
    // A reset without a password source in the config generates one.
    if (requested && change.kind === 'user') addUser(change.after.username, change.after.password ?? { from: 'generate' });
  }
  if (missing.length > 0) {
    throw new FedctlError('APPLY_FAILED', `environment variables not set: ${missing.join(', ')}`,
      'set them to the initial passwords of the users being created; nothing was changed');
  }
  const hashes = await hashSecrets([...nodes.map((n) => n.plaintext), ...users.map((u) => u.plaintext)], cost, hashing);
  return {
    nodeKeyHashes: new Map(nodes.map((node, i) => [node.key, hashes[i] as string])),
    passwordHashes: new Map(users.map((user, i) => [user.username, hashes[nodes.length + i] as string])),
    fileEntries: { nodes: fileNodes, users: fileUsers },
  };
}
