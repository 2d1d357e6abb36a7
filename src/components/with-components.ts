import type { Backend } from '../backends/backend.js';
import type { Component } from './component.js';
import type { IdentityProvider, KeptUser, PruneSettings } from '../federation.js';
import { withKeycloak } from './with-keycloak.js';
import { withStores, type StoresOfConfig } from './with-stores.js';

/**
 * What of a config says which components fedctl reaches: its stores, what
 * it keeps of its users in Keycloak (null: all, as export adopts it), and
 * whether its guardrails ask who has two-factor authentication there.
 */
export interface ComponentsOfConfig extends StoresOfConfig {
  readonly keptUsers: readonly KeptUser[] | null;
  readonly readsTwoFactor?: boolean;
  /** The config's identity providers (absent: none); null: all of Keycloak's, as export adopts them. */
  readonly identityProviders?: readonly IdentityProvider[] | null;
  readonly prune?: Pick<PruneSettings, 'identity_provider'>;
}

/**
 * The server's backend with the components beside it: Keycloak right after
 * the server (its users belong to the server's), then the algorithm
 * stores. Reads add each one's state; applies go server, Keycloak, stores.
 */
export async function withComponents(backend: Backend, config: ComponentsOfConfig, env: NodeJS.ProcessEnv, warn?: (line: string) => void): Promise<Component> {
  const keycloak = withKeycloak(backend, config.keptUsers, env, {
    warn, readsTwoFactor: config.readsTwoFactor ?? false,
    providers: config.keptUsers === null ? null : config.identityProviders ?? [], pruneProviders: config.prune?.identity_provider === true,
  });
  const stores = await withStores(keycloak.backend, config, env);
  return { backend: stores.backend, addTo: async (loaded) => stores.addTo(await keycloak.addTo(loaded)) };
}
