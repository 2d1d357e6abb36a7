import path from 'node:path';
import type { SecretsSettings } from '../federation.js';
import type { SecretsStore } from './secrets-store.js';

export const DEFAULT_SECRETS_DIR_NAME = 'fedctl-secrets';

export interface SecretsLocation {
  /** `--secrets-file`, or the default beside the config. */
  readonly file: string;
  /** `--secrets-dir`, or the default beside the config. */
  readonly dir: string;
}

/**
 * The store the settings ask for: encrypted records and node files when
 * there are recipients (nothing in plaintext), else the plaintext file.
 * The encrypted store loads age only when it is used.
 */
export async function openSecretsStore(settings: SecretsSettings, location: SecretsLocation): Promise<SecretsStore> {
  if (settings.recipients.length === 0) {
    const { PlaintextSecretsStore } = await import('./secrets-file.js');
    return new PlaintextSecretsStore(location.file);
  }
  const { EncryptedSecretsStore } = await import('./encrypted-store.js');
  return new EncryptedSecretsStore(path.resolve(location.dir), settings);
}
