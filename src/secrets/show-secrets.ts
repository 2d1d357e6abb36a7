import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FedctlError, messageOf } from '../errors.js';
import { decryptArmored, parseIdentityFile } from './age-crypto.js';
import { RECORDS_FOLDER, RECORD_FORMAT } from './encrypted-store.js';
import { loadSecretsYaml, mergeSecrets, secretsIn } from './secrets-file.js';
import type { SecretsContent } from './secrets-store.js';

export interface OpenedRecords {
  /** Every key and password of the records opened, the latest record winning for each node and user. */
  readonly content: SecretsContent;
  readonly opened: number;
  /** Records encrypted to other recipients only. */
  readonly notForYou: number;
}

/**
 * Open the records of an encrypted secrets folder with an age identity file
 * and merge them in the order they were written (their names start with
 * the time), so that a rotated key replaces the one before it.
 */
export async function openRecords(dir: string, identityFile: string): Promise<OpenedRecords> {
  let identities: string[];
  try {
    identities = parseIdentityFile(await readFile(identityFile, 'utf8'));
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `cannot read identity file ${identityFile}: ${messageOf(error)}`, 'give an age identity file (age-keygen -o FILE)');
  }
  if (identities.length === 0) throw new FedctlError('SECRETS_FILE', `${identityFile} holds no age identity`, 'give an age identity file (age-keygen -o FILE)');
  const folder = path.join(dir, RECORDS_FOLDER);
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.endsWith('.age')).sort();
  } catch (error) {
    throw new FedctlError('SECRETS_FILE', `cannot read ${folder}: ${messageOf(error)}`, 'give the secrets folder that fedctl apply wrote (--secrets-dir)');
  }
  let content: SecretsContent = { nodes: {}, users: {} };
  let opened = 0;
  let notForYou = 0;
  for (const name of names) {
    const file = path.join(folder, name);
    let decrypted;
    try {
      decrypted = await decryptArmored(identities, await readFile(file, 'utf8'));
    } catch (error) {
      throw new FedctlError('SECRETS_FILE', `cannot open ${file}: ${messageOf(error)}`, 'check the identity file');
    }
    if ('problem' in decrypted) {
      if (decrypted.problem === 'not-for-you') {
        notForYou++;
        continue;
      }
      throw new FedctlError('SECRETS_FILE', `${file} is not an age file fedctl can read: ${decrypted.detail}`, 'restore it from version control or a backup');
    }
    const record = loadSecretsYaml(file, decrypted.text);
    if ((record as { fedctl_secrets_record?: unknown }).fedctl_secrets_record !== RECORD_FORMAT) {
      throw new FedctlError('SECRETS_FILE', `${file} is not a secrets record of this version of fedctl`, 'update fedctl');
    }
    content = mergeSecrets(content, secretsIn(file, record));
    opened++;
  }
  if (opened === 0 && notForYou > 0) {
    throw new FedctlError('SECRETS_FILE', `none of the ${notForYou} records in ${folder} is encrypted to ${identityFile}`,
      'use the identity of one of the recipients in the config\'s secrets.recipients');
  }
  return { content, opened, notForYou };
}
