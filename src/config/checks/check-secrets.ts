import type { SecretsSettings, ServerAddress } from '../../federation.js';
import type { ConfigDocument } from '../load-config.js';
import { CheckContext, isRecord, list, type Entry } from './check-context.js';

/** A `server:` block's address, with the defaults filled in; null when it has no URL (the schema check says why). */
export function serverAddressOf(value: unknown): ServerAddress | null {
  if (!isRecord(value) || typeof value.url !== 'string') return null;
  return {
    url: value.url,
    port: typeof value.port === 'number' ? value.port : value.url.startsWith('https:') ? 443 : 7601,
    apiPath: typeof value.api_path === 'string' ? value.api_path : null,
    keycloak: isRecord(value.keycloak) && typeof value.keycloak.url === 'string'
      ? { url: value.keycloak.url.replace(/\/+$/, ''), realm: typeof value.keycloak.realm === 'string' ? value.keycloak.realm : 'vantage6' }
      : null,
  };
}

/**
 * `secrets:` and `server:` of every document: recipients are merged; an
 * organization's recipients need the organization, and a server to point
 * its node files at; `server:` is given once.
 */
export function secretsSettings(ctx: CheckContext, documents: readonly ConfigDocument[], orgNames: ReadonlySet<string>): SecretsSettings {
  const recipients = new Set<string>();
  const organizations = new Map<string, Set<string>>();
  let server: { address: ServerAddress; entry: Entry } | null = null;
  const needsServer: Entry[] = [];
  for (const document of documents) {
    if (!isRecord(document.value)) continue;
    const { secrets, server: serverValue } = document.value;
    if (isRecord(secrets)) {
      for (const item of list(secrets.recipients)) if (typeof item === 'string') recipients.add(item);
      if (isRecord(secrets.organizations)) {
        for (const [organization, keys] of Object.entries(secrets.organizations)) {
          const entry: Entry = { document, path: ['secrets', 'organizations'], value: secrets.organizations };
          if (!ctx.reference(entry, [organization], 'organization', organization, orgNames)) continue;
          const set = organizations.get(organization) ?? new Set<string>();
          for (const key of list(keys)) if (typeof key === 'string') set.add(key);
          organizations.set(organization, set);
          needsServer.push(entry);
        }
      }
    }
    const address = serverAddressOf(serverValue);
    if (address !== null) {
      const entry: Entry = { document, path: ['server'], value: serverValue as Record<string, unknown> };
      if (server !== null && JSON.stringify(server.address) !== JSON.stringify(address)) {
        ctx.error(entry, [], 'server is given twice, differently', `first at ${ctx.where(server.entry)}; a federation has one server`);
      } else {
        server ??= { address, entry };
      }
    }
  }
  if (server === null && needsServer[0]) {
    ctx.error(needsServer[0], [], 'organizations have recipients, but there is no server: block',
      'add server: { url: https://… } so that their node configuration files point at the server');
  }
  return {
    recipients: [...recipients],
    organizations: Object.fromEntries([...organizations].map(([name, keys]) => [name, [...keys]])),
    server: server?.address ?? null,
  };
}
