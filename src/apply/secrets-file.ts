import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
// js-yaml: the file grows to one entry per node ever created, and `yaml`'s duplicate-key check is quadratic.
import { dump, load } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';

export interface NodeSecretEntry {
  readonly organization: string;
  readonly collaboration: string;
  readonly api_key: string;
  readonly created_at: string;
}

export interface UserSecretEntry {
  readonly password: string;
  readonly created_at: string;
}

/** The secrets file: node API keys by node name, generated passwords by username. */
export interface SecretsContent {
  readonly nodes: Readonly<Record<string, NodeSecretEntry>>;
  readonly users: Readonly<Record<string, UserSecretEntry>>;
}

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
  if (text === null) return { nodes: {}, users: {} };
  let value: unknown;
  try {
    value = load(text) ?? {};
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `secrets file ${file} is not valid YAML: ${messageOf(error).split('\n')[0]}`,
      'fix or move the file; fedctl never overwrites keys it cannot read');
  }
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
 * Replace the file atomically: write a temporary file (mode 0600) beside it,
 * fsync, rename over the old one, fsync the folder. Readers see the old or the
 * new file, never a part.
 */
export async function writeSecretsFile(file: string, content: SecretsContent): Promise<void> {
  await replaceAtomically(file, HEADER + dump(content, { lineWidth: -1 }));
}

/** The file's exact text, or null when there is none: what a failed apply puts back. */
export async function snapshotSecretsFile(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FedctlError('SECRETS_FILE', `cannot read secrets file ${file}: ${messageOf(error)}`,
      'give a writable file with --secrets-file');
  }
}

/** Put a snapshot back: the same text, or no file. */
export async function restoreSecretsFile(file: string, snapshot: string | null): Promise<void> {
  if (snapshot === null) await unlink(file).catch(() => undefined);
  else await replaceAtomically(file, snapshot);
}

async function replaceAtomically(file: string, text: string): Promise<void> {
  const target = path.resolve(file);
  const folder = path.dirname(target);
  const temporary = path.join(folder, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new FedctlError('SECRETS_FILE', `cannot write secrets file ${file}: ${messageOf(error)}`,
      'nothing was changed in the database; give a writable path with --secrets-file');
  }
}
