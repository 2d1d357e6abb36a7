import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../config/load-config.js';
import { FedctlError, messageOf } from '../../errors.js';
import { renderStorePolicies, storePoliciesFileName } from '../../render/render-store-policies.js';
import { replaceAtomically } from '../../secrets/atomic-file.js';
import { v4ApiUrlOf } from '../../federation.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { checkConfig } from '../load-desired.js';

export interface StorePoliciesFlags {
  /** A folder to write one file per store into; without it, the files are printed. */
  readonly out?: string;
}

/**
 * `fedctl store-policies`: what each store's operator deploys for the
 * policies the config gives it, for the store's line (the config's
 * `vantage6:`: 4.x stores' configuration, vantage6 5's Helm values). Offline.
 */
export async function storePoliciesCommand(paths: readonly string[], flags: StorePoliciesFlags, io: CliIo): Promise<number> {
  const { desired, server } = checkConfig(await loadConfig(paths), io, { quiet: false });
  const format = server.keycloak ? 'hq' : 'v4';
  if (desired.storePolicies.length === 0) {
    io.stderr.write('No store in the config names policies: (add policies: to an algorithm_stores entry).\n');
    return EXIT_OK;
  }
  for (const policies of desired.storePolicies) {
    const text = renderStorePolicies(policies, format, desired.secrets.server === null ? null : v4ApiUrlOf(desired.secrets.server));
    if (flags.out === undefined) {
      io.stdout.write(`${text}---\n`);
      continue;
    }
    const file = path.join(flags.out, storePoliciesFileName(policies.store));
    try {
      await mkdir(flags.out, { recursive: true });
      await replaceAtomically(file, text);
    } catch (error) {
      throw new FedctlError('CONFIG_UNREADABLE', `cannot write ${file}: ${messageOf(error)}`);
    }
    io.stdout.write(`Wrote the policies of ${policies.store} to ${file}\n`);
  }
  return EXIT_OK;
}
