import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Keycloak shows a provider's client secret to nobody (`**********`): what
 * fedctl wrote is told by a salted scrypt digest it keeps beside it, so that
 * a plan sees the secret changed in the environment (rotated at the
 * provider) without it being anywhere but Keycloak and the environment. One
 * typed into Keycloak's console over fedctl's is not seen: Keycloak shows it
 * to nobody.
 */
export function secretDigest(secret: string): string {
  const salt = randomBytes(16);
  return `scrypt:${salt.toString('base64url')}:${scryptSync(secret, salt, 32).toString('base64url')}`;
}

/** Whether a digest `secretDigest` made is of this secret. */
export function isDigestOf(digest: string | undefined, secret: string): boolean {
  const [scheme, salt, hash] = (digest ?? '').split(':');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  return expected.length === 32 && timingSafeEqual(expected, scryptSync(secret, Buffer.from(salt, 'base64url'), 32));
}

/** The environment variable a `${VAR}` reference names (the schema admits only that form). */
export const variableOf = (reference: string): string => reference.slice(2, -1);
