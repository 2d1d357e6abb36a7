import { unlink } from 'node:fs/promises';
import { dump, load } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import { readIfExists, replaceAtomically } from './atomic-file.js';

/** A node whose key a server was about to make (a new node, a rotation) when fedctl last noted it. */
export interface PendingKey {
  readonly name: string;
  readonly organization: string;
  readonly collaboration: string;
  readonly since: string;
}

/**
 * Notes, without any secret, of nodes whose keys a server is making: written
 * before the call that makes a key, cleared once the key is recorded. A note
 * left behind names a node whose key was lost to a kill between the two, so
 * that the next plan can say which key to rotate.
 */
export class PendingKeys {
  constructor(readonly file: string) {}

  async list(): Promise<PendingKey[]> {
    const text = await readIfExists(this.file);
    if (text === null) return [];
    let value: unknown;
    try {
      value = load(text);
    } catch (error) {
      throw new FedctlError('SECRETS_FILE', `${this.file} is not valid YAML: ${messageOf(error).split('\n')[0]}`, 'fix or remove the file');
    }
    const nodes = (value as { pending_keys?: Record<string, Omit<PendingKey, 'name'>> } | null)?.pending_keys ?? {};
    return Object.entries(nodes).map(([name, entry]) => ({ name, ...entry }));
  }

  async add(keys: readonly PendingKey[]): Promise<void> {
    if (keys.length > 0) await this.write([...(await this.list()).filter((k) => !keys.some((added) => added.name === k.name)), ...keys]);
  }

  async remove(names: readonly string[]): Promise<void> {
    const current = await this.list();
    const kept = current.filter((key) => !names.includes(key.name));
    if (kept.length !== current.length) await this.write(kept);
  }

  private async write(keys: readonly PendingKey[]): Promise<void> {
    if (keys.length === 0) {
      await unlink(this.file).catch(() => undefined);
      return;
    }
    const content = Object.fromEntries(keys.map(({ name, ...entry }) => [name, entry]));
    await replaceAtomically(this.file, `# fedctl: nodes whose keys a server was making; no key is in this file.\n${dump({ pending_keys: content }, { lineWidth: -1 })}`);
  }
}
