import { randomInt, randomUUID } from 'node:crypto';
import type { Environment } from '../config/interpolate.js';
import { FedctlError } from '../errors.js';
import { nodeKey } from '../federation.js';
import type { Change } from '../plan/plan.js';
import { hashSecrets } from './hash-pool.js';
import type { SecretsContent } from './secrets-file.js';

/** Hashes for the rows apply inserts, and the plaintexts that go into the secrets file. */
export interface PreparedSecrets {
  /** bcrypt hash of each new node's API key, by `nodeKey`. */
  readonly nodeKeyHashes: ReadonlyMap<string, string>;
  /** bcrypt hash of each new user's password, by username; users without password are absent. */
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
 * Make the secrets of the entities a plan creates: a uuid4 API key per new
 * node (as vantage6's generate_apikey), the initial password of each new
 * user, all bcrypt-hashed in parallel.
 */
export async function prepareSecrets(
  changes: readonly Change[],
  env: Environment,
  cost: number,
  onProgress?: (done: number, total: number) => void,
): Promise<PreparedSecrets> {
  const createdAt = new Date().toISOString();
  const nodes: { key: string; plaintext: string }[] = [];
  const users: { username: string; plaintext: string }[] = [];
  const fileNodes: Record<string, SecretsContent['nodes'][string]> = {};
  const fileUsers: Record<string, SecretsContent['users'][string]> = {};
  const missing: string[] = [];
  for (const change of changes) {
    if (change.action !== 'create') continue;
    if (change.kind === 'node') {
      const apiKey = randomUUID();
      nodes.push({ key: nodeKey(change.after), plaintext: apiKey });
      fileNodes[change.after.name] = {
        organization: change.after.organization, collaboration: change.after.collaboration, api_key: apiKey, created_at: createdAt,
      };
    } else if (change.kind === 'user' && change.after.password !== null) {
      const source = change.after.password;
      if (source.from === 'generate') {
        const password = generatePassword();
        users.push({ username: change.after.username, plaintext: password });
        fileUsers[change.after.username] = { password, created_at: createdAt };
      } else {
        const value = env[source.variable];
        if (value === undefined || value === '') missing.push(`${source.variable} (password of ${change.after.username})`);
        else users.push({ username: change.after.username, plaintext: value });
      }
    }
  }
  if (missing.length > 0) {
    throw new FedctlError('APPLY_FAILED', `environment variables not set: ${missing.join(', ')}`,
      'set them to the initial passwords of the users being created; nothing was changed');
  }
  const hashes = await hashSecrets([...nodes.map((n) => n.plaintext), ...users.map((u) => u.plaintext)], cost, onProgress);
  return {
    nodeKeyHashes: new Map(nodes.map((node, i) => [node.key, hashes[i] as string])),
    passwordHashes: new Map(users.map((user, i) => [user.username, hashes[nodes.length + i] as string])),
    fileEntries: { nodes: fileNodes, users: fileUsers },
  };
}
