import type { StoresOfConfig } from '../components/with-stores.js';
import { FedctlError } from '../errors.js';
import { NO_SECRETS_SETTINGS } from '../federation.js';
import type { LiveState } from '../state/live-state.js';
import { didYouMean } from '../suggest.js';

/** The stores `--store` names, each one the server links: their roles, users and policies are read as a config managing them would. */
export function storesToRead(urls: readonly string[], live: LiveState): StoresOfConfig {
  const linked = live.algorithmStores.map((store) => store.url);
  for (const url of urls) {
    if (!linked.includes(url)) {
      throw new FedctlError('STORE_NOT_LINKED', `--store ${url}: the server links no algorithm store at that URL`,
        didYouMean(url, linked) ?? (linked.length === 0 ? 'the server links no store' : `it links: ${linked.join(', ')}`));
    }
  }
  return { managedStores: urls.map((url) => ({ url, users: true, roles: true, policies: true })), secrets: NO_SECRETS_SETTINGS };
}
