import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
// js-yaml: the file grows to one entry per node ever created, and `yaml`'s duplicate-key check is quadratic.
import { dump, load } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import { readIfExists, removeAbandonedTemporaries, replaceAtomically, restoreFile } from './atomic-file.js';
import { PendingKeys } from './pending-keys.js';
import type { MadeSecrets, NodeSecretEntry, SecretsContent, SecretsStore, UserSecretEntry } from './secrets-store.js';

const HEADER = [
  '# fedctl secrets: API keys of the nodes fedctl created and passwords it generated.',
  '# Give each node its api_key. Keep this file private (mode 0600); never commit it.',
  '',
].join('\n');

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The content of a snapshot of the file (null: no file, so empty); a malformed file is an error. */
export function parseSecrets(file: string, text: string | null): SecretsContent {
  return text === null ? { nodes: {}, users: {} } : secretsIn(file, loadSecretsYaml(file, text));
}

/** A secrets file's or record's YAML; a file that is not YAML is an error naming it. */
export function loadSecretsYaml(file: string, text: string): unknown {
  try {
    return load(text) ?? {};
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `secrets file ${file} is not valid YAML: ${messageOf(error).split('\n')[0]}`,
      'fix or move the file; fedctl never overwrites keys it cannot read');
  }
}

/** The nodes and users of a loaded secrets file or record; another layout is an error. */
export function secretsIn(file: string, value: unknown): SecretsContent {
  if (!isRecord(value) || (value.nodes !== undefined && !isRecord(value.nodes)) || (value.users !== undefined && !isRecord(value.users))) {
    throw new FedctlError('SECRETS_FILE', `secrets file ${file} does not have the nodes/users layout fedctl writes`,
      'fix or move the file; fedctl never overwrites keys it cannot read');
  }
  return {
    nodes: (value.nodes ?? {}) as Record<string, NodeSecretEntry>,
    users: (value.users ?? {}) as Record<string, UserSecretEntry>,
  };
}

/** Fail before any work when the file cannot be read back or its folder cannot take it. */
export async function checkSecretsFileWritable(file: string): Promise<void> {
  parseSecrets(file, await snapshotSecretsFile(file));
  try {
    await access(path.dirname(path.resolve(file)), constants.W_OK);
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `cannot write secrets file ${file}: ${messageOf(error)}`, 'give a writable path with --secrets-file');
  }
}

/** New entries win over old ones of the same name; no other entry is ever dropped. */
export function mergeSecrets(current: SecretsContent, added: SecretsContent): SecretsContent {
  return { nodes: { ...current.nodes, ...added.nodes }, users: { ...current.users, ...added.users } };
}

/**
 * Replace the file atomically (see `replaceAtomically`): readers see the old
 * or the new file, never a part.
 */
export async function writeSecretsFile(file: string, content: SecretsContent): Promise<void> {
  try {
    await replaceAtomically(file, HEADER + dump(content, { lineWidth: -1 }));
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `cannot write secrets file ${file}: ${messageOf(error)}`,
      'nothing was changed in the database; give a writable path with --secrets-file');
  }
}

/** The file's exact text, or null when there is none: what a failed apply puts back. */
export async function snapshotSecretsFile(file: string): Promise<string | null> {
  try {
    return await readIfExists(file);
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `cannot read secrets file ${file}: ${messageOf(error)}`,
      'give a writable file with --secrets-file');
  }
}

/** The plaintext secrets file: merged with what is there, replaced atomically, put back on a rollback. */
export class PlaintextSecretsStore implements SecretsStore {
  readonly pending: PendingKeys;

  constructor(readonly location: string) {
    this.pending = new PendingKeys(path.join(path.dirname(path.resolve(location)), `.${path.basename(location)}.pending`));
  }

  async check(): Promise<void> {
    await checkSecretsFileWritable(this.location);
    await removeAbandonedTemporaries(path.dirname(path.resolve(this.location)), path.basename(this.location));
  }

  /** A secrets file writes no node files. */
  writtenPolicies(): Promise<null> {
    return Promise.resolve(null);
  }

  async save(made: MadeSecrets): Promise<() => Promise<void>> {
    // Re-read under the lock: another run may have added keys since the check.
    const previous = await snapshotSecretsFile(this.location);
    await writeSecretsFile(this.location, mergeSecrets(parseSecrets(this.location, previous), made.content));
    await this.pending.remove(Object.keys(made.content.nodes));
    return () => restoreFile(this.location, previous);
  }

  describe(made: MadeSecrets): string {
    return `Wrote ${Object.keys(made.content.nodes).length} node API key(s) and ${Object.keys(made.content.users).length} generated password(s) to ${this.location}.`;
  }
}
