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

/** `--store-url OLD=NEW` as a map, each URL as a config names a store (its API's URL, without a trailing slash). */
export function storeUrlMap(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs) {
    const [old, now, ...rest] = pair.split('=');
    const url = (value: string | undefined): string | null => {
      try {
        return value !== undefined && /^https?:$/.test(new URL(value).protocol) ? value.replace(/\/+$/, '') : null;
      } catch {
        return null;
      }
    };
    const from = url(old);
    const to = url(now);
    if (from === null || to === null || rest.length > 0) {
      throw new FedctlError('CONFIG_INVALID', `--store-url ${pair}: expected OLD=NEW, two store API URLs`, 'e.g. --store-url https://store4.example.org/api=https://store5.example.org/store');
    }
    map.set(from, to);
  }
  return map;
}
