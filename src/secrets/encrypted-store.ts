import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { dump } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import { ownValue } from '../own-property.js';
import type { SecretsSettings } from '../federation.js';
import { encryptArmored, recipientProblem } from './age-crypto.js';
import { readIfExists, removeAbandonedTemporaries, replaceAtomically, restoreFile } from './atomic-file.js';
import { nodePoliciesDigest, renderNodeConfig } from './node-config.js';
import { PendingKeys } from './pending-keys.js';
import type { MadeSecrets, SecretsStore } from './secrets-store.js';
import { WrittenPolicies } from './written-policies.js';

/** Version of a record's content; `fedctl secrets show` reads this one. */
export const RECORD_FORMAT = 1;

/** Encrypted files written at once: file IO overlaps the encryption. */
const PARALLEL_WRITES = 16;

/**
 * A name as a file name on every system: characters that paths, Windows or
 * shells treat specially become `_`; a name that had any gets a short hash
 * of itself, so that two names never share a file.
 */
export function fileNameOf(name: string): string {
  const safe = name.replace(/[/\\:*?"<>|\p{Cc}]/gu, '_').replace(/^[.\s]+/, '_').slice(0, 120);
  return safe === name ? safe : `${safe}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

export const RECORDS_FOLDER = 'records';
const NODES_FOLDER = 'nodes';

/** Where a node's configuration file goes: one folder per organization, for its operators. */
export function nodeFilePath(dir: string, organization: string, node: string): string {
  return path.join(dir, NODES_FOLDER, fileNameOf(organization), `${fileNameOf(node)}.yaml.age`);
}

/** The id the server gave a user a node's policies allow; validation and the order of the apply's calls make sure it has one. */
function userId(made: MadeSecrets, node: string, username: string): number {
  const id = ownValue(made.userIds, username);
  if (id === undefined) throw new Error(`node ${JSON.stringify(node)} allows user ${JSON.stringify(username)}, whom the server does not have`);
  return id;
}

/**
 * Secrets encrypted to recipients, safe to keep and to commit:
 * - `records/`: one file per apply, append-only, encrypted to the admins: the
 *   keys and passwords it made. CI needs no private key, and no record is
 *   ever rewritten, so nothing written before can be lost;
 * - `nodes/ORGANIZATION/NODE.yaml.age`: the node's ready configuration file,
 *   encrypted to its organization's recipients and the admins; replaced when
 *   the node's key is rotated.
 * Nothing is written in plaintext, not even a temporary file.
 */
export class EncryptedSecretsStore implements SecretsStore {
  readonly pending: PendingKeys;
  private readonly written: WrittenPolicies;

  constructor(readonly location: string, private readonly settings: SecretsSettings) {
    // Beside the records, so that CI keeps it with them.
    this.pending = new PendingKeys(path.join(location, 'pending-keys.yaml'));
    this.written = new WrittenPolicies(path.join(location, 'node-policies.yaml'));
  }

  writtenPolicies(): Promise<ReadonlyMap<string, string> | null> {
    return this.settings.server === null ? Promise.resolve(null) : this.written.read();
  }

  async check(): Promise<void> {
    const all = [
      ...this.settings.recipients.map((r) => ({ r, where: 'secrets.recipients, --recipient or FEDCTL_AGE_RECIPIENTS' })),
      ...Object.entries(this.settings.organizations).flatMap(([org, list]) => list.map((r) => ({ r, where: `secrets.organizations[${JSON.stringify(org)}]` }))),
    ];
    for (const { r, where } of all) {
      const problem = recipientProblem(r);
      if (problem !== null) {
        throw new FedctlError('SECRETS_RECIPIENT', `${JSON.stringify(r)} (${where}) is not an age recipient fedctl can encrypt to: ${problem}`,
          'give age public keys as age-keygen prints them (age1…); nothing was changed');
      }
    }
    try {
      await mkdir(path.join(this.location, RECORDS_FOLDER), { recursive: true, mode: 0o700 });
      await access(this.location, constants.W_OK);
    } catch (error) {
      throw new FedctlError('SECRETS_FILE', `cannot write the secrets folder ${this.location}: ${messageOf(error)}`,
        'give a writable folder with --secrets-dir; nothing was changed');
    }
    // What a killed apply left half-written: never a key that a record lacks, as its apply was not committed.
    const nodeFolders = await readdir(path.join(this.location, NODES_FOLDER)).catch(() => []);
    await Promise.all([RECORDS_FOLDER, ...nodeFolders.map((org) => path.join(NODES_FOLDER, org))]
      .map((folder) => removeAbandonedTemporaries(path.join(this.location, folder))));
  }

  async save(made: MadeSecrets): Promise<() => Promise<void>> {
    const undo: (() => Promise<void>)[] = [];
    const undoAll = async (): Promise<void> => {
      for (const step of undo.reverse()) await step();
    };
    try {
      // The record first: once it is on disk, every key of this apply is kept.
      const stamp = new Date().toISOString().replace(/:/g, '-');
      const record = path.join(this.location, RECORDS_FOLDER, `${stamp}-${randomBytes(4).toString('hex')}.yaml.age`);
      const text = dump({ fedctl_secrets_record: RECORD_FORMAT, created_at: new Date().toISOString(), database: made.database, ...made.content }, { lineWidth: -1 });
      await replaceAtomically(record, await encryptArmored(this.settings.recipients, text));
      undo.push(() => unlink(record).catch(() => undefined));
      const server = this.settings.server;
      if (server !== null) {
        const nodes = Object.entries(made.content.nodes);
        const format = made.keycloak ? 'hq' : 'v4';
        const digests = new Map<string, string>();
        for (let i = 0; i < nodes.length; i += PARALLEL_WRITES) {
          await Promise.all(nodes.slice(i, i + PARALLEL_WRITES).map(async ([name, entry]) => {
            const file = nodeFilePath(this.location, entry.organization, name);
            const previous = await readIfExists(file);
            const policies = ownValue(this.settings.nodePolicies, name);
            const ofPolicies = {
              algorithmStores: ownValue(this.settings.nodeStores, entry.collaboration) ?? [], policies,
              ...(policies?.allowedUsers === undefined ? {} : { allowedUsers: policies.allowedUsers.map((username) => ({ username, id: userId(made, name, username) })) }),
            };
            const config = renderNodeConfig({
              name, organization: entry.organization, collaboration: entry.collaboration, apiKey: entry.api_key,
              encrypted: made.collaborationEncrypted[entry.collaboration] ?? true, server, createdAt: entry.created_at, ...ofPolicies,
            }, format);
            digests.set(name, nodePoliciesDigest(ofPolicies, format));
            const recipients = [...(this.settings.organizations[entry.organization] ?? []), ...this.settings.recipients];
            await replaceAtomically(file, await encryptArmored(recipients, config));
            undo.push(() => restoreFile(file, previous));
          }));
        }
        // After the files: a digest noted for a file not written would hide that it is stale.
        undo.push(await this.written.note(digests));
      }
    } catch (error) {
      await undoAll();
      throw new FedctlError('SECRETS_FILE', `cannot write the encrypted secrets to ${this.location}: ${messageOf(error)}`,
        'nothing was changed in the database; give a writable folder with --secrets-dir');
    }
    await this.pending.remove(Object.keys(made.content.nodes));
    return undoAll;
  }

  describe(made: MadeSecrets): string {
    const nodes = Object.keys(made.content.nodes).length;
    const users = Object.keys(made.content.users).length;
    const files = this.settings.server === null
      ? ' (no node configuration files: the config has no server: block)'
      : `, and ${nodes} node configuration file(s) to ${path.join(this.location, NODES_FOLDER)}`;
    return `Encrypted ${nodes} node API key(s) and ${users} generated password(s) to ${this.settings.recipients.length} recipient(s) in ${path.join(this.location, RECORDS_FOLDER)}${files}.`;
  }
}
