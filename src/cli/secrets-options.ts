import path from 'node:path';
import { DEFAULT_SECRETS_FILE_NAME, listConfigFiles } from '../config/load-config.js';
import { FedctlError } from '../errors.js';
import type { DesiredState, SecretsSettings } from '../federation.js';
import { staleNodeFiles } from '../plan/stale-node-files.js';
import type { Plan } from '../plan/plan.js';
import { DEFAULT_SECRETS_DIR_NAME, openSecretsStore } from '../secrets/open-secrets-store.js';
import type { SecretsStore } from '../secrets/secrets-store.js';
import type { LiveState } from '../state/live-state.js';
import type { CliIo } from './io.js';

/** Where the secrets are, as plan and apply take it. */
export interface SecretsFlags {
  readonly secretsFile?: string;
  readonly secretsDir?: string;
  /** `--recipient`: admins' age public keys on top of the config's. */
  readonly recipient?: readonly string[];
}

/** The config's secrets settings with the admins' recipients of `--recipient` and FEDCTL_AGE_RECIPIENTS added. */
export function withRecipients(settings: SecretsSettings, flags: SecretsFlags, env: CliIo['env']): SecretsSettings {
  const fromEnv = (env.FEDCTL_AGE_RECIPIENTS ?? '').split(/[\s,]+/).filter((r) => r !== '');
  return { ...settings, recipients: [...new Set([...settings.recipients, ...(flags.recipient ?? []), ...fromEnv])] };
}

/**
 * The secrets store the settings ask for, where the flags put it, or beside
 * the config file (or saved plan), inside a config directory.
 */
export async function secretsStoreFor(paths: readonly string[], settings: SecretsSettings, flags: SecretsFlags, io: CliIo): Promise<SecretsStore> {
  if (settings.recipients.length > 0 && flags.secretsFile) {
    throw new FedctlError('SECRETS_FILE', 'with recipients, secrets are never written in plaintext: --secrets-file does not apply',
      'give the folder for the encrypted secrets with --secrets-dir');
  }
  const first = (await listConfigFiles(paths.slice(0, 1)))[0] ?? paths[0] ?? '.';
  return openSecretsStore(settings, {
    file: flags.secretsFile ? path.resolve(io.cwd, flags.secretsFile) : path.join(path.dirname(first), DEFAULT_SECRETS_FILE_NAME),
    dir: flags.secretsDir ? path.resolve(io.cwd, flags.secretsDir) : path.join(path.dirname(first), DEFAULT_SECRETS_DIR_NAME),
  });
}

/** The plan, naming the nodes whose files carry other policies than the config now gives them. */
export async function withStaleNodeFiles(plan: Plan, desired: DesiredState, live: LiveState, store: SecretsStore): Promise<Plan> {
  const stale = staleNodeFiles(plan, desired, live, await store.writtenPolicies());
  return stale.length === 0 ? plan : { ...plan, staleNodeFiles: stale };
}

/** The plan, naming the nodes whose keys a server made while no apply recorded them (a kill between the two). */
export async function withUnrecordedKeys(plan: Plan, live: LiveState, store: SecretsStore): Promise<Plan> {
  const nodes = new Set(live.nodes.map((node) => node.name));
  const unrecorded = (await store.pending.list()).map((key) => key.name).filter((name) => nodes.has(name)).sort();
  return unrecorded.length === 0 ? plan : { ...plan, unrecordedKeys: unrecorded };
}
