import type { KeycloakUserField } from '../../catalog/vantage6-versions.js';
import type { ChangeLimit } from '../../state/live-state.js';
import type { ValueTest } from '../../state/value-test.js';
import { ownValue } from '../../own-property.js';

/** A realm's user profile as its admin API gives it: per attribute, the validators Keycloak runs on every write. */
export interface KeycloakUserProfile {
  readonly attributes?: readonly {
    readonly name: string;
    readonly validations?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  }[];
}

/** What of a realm's settings its checks depend on, as fedctl's account can read them. */
export interface RealmSettings {
  readonly realm: string;
  /** E-mail addresses are usernames: the username validators are then not run. */
  readonly registrationEmailAsUsername: boolean;
  /** Keycloak's mail server accepts non-ASCII local parts (its SMTP setting allowutf8, or no mail server); null where the account may not read it. */
  readonly utf8LocalParts: boolean | null;
}

/** The config's fields of a user as Keycloak's user profile names them (username: HQ makes the Keycloak user with it). */
const FIELDS: Readonly<Record<string, KeycloakUserField | 'username'>> = {
  username: 'username', email: 'email', firstName: 'firstname', lastName: 'lastname',
};

/** Keycloak's own person-name check (PersonNameProhibitedCharactersValidator), in JavaScript's words: Java's `\v` and `\p{Cntrl}` spelled out. */
const PERSON_NAME = '^[^<>&"\\n\\x0B\\f\\r\\x85\\u2028\\u2029$%!#?§;*~/\\\\|^=\\[\\]{}()\\x00-\\x1F\\x7F]+$';
/** Keycloak's own username check (UsernameProhibitedCharactersValidator): Java's `\s`, `\v` and `\h` spelled out. */
const USERNAME = '^[^<>&"\'\\t\\n\\x0B\\f\\r \\x85\\u2028\\u2029\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000$%!#?§,;:*~/\\\\|^=\\[\\]{}()`\\x00-\\x1F\\x7F]+$';
/** Keycloak's check against IDN homographs: Latin and common characters only. */
const LATIN_OR_COMMON = '^[\\p{Script=Latin}\\p{Script=Common}|]+$';

const number = (value: unknown): number | undefined => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
};

/** One of Keycloak's validators as fedctl's test and the reason Keycloak gives (its message key first); null for one fedctl cannot run. */
function translate(id: string, config: Readonly<Record<string, unknown>>, realm: RealmSettings): { test: ValueTest; reason: string } | null {
  const message = (fallback: string): string => (typeof config['error-message'] === 'string' && config['error-message'] !== '' ? config['error-message'] : fallback);
  switch (id) {
    case 'length': {
      const min = number(config.min);
      const max = number(config.max);
      const range = min !== undefined && max !== undefined ? `${min} to ${max}` : min !== undefined ? `at least ${min}` : `at most ${max ?? '?'}`;
      return { test: { test: 'length', ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), unit: 'utf-16', trim: config['trim-disabled'] !== true && config['trim-disabled'] !== 'true' },
        reason: `${message('error-invalid-length')}: Keycloak takes ${range} characters here` };
    }
    case 'person-name-prohibited-characters':
      return { test: { test: 'pattern', pattern: PERSON_NAME, refuse: 'mismatch' },
        reason: `${message('error-person-name-invalid-character')}: Keycloak takes no < > & " $ % ! # ? § ; * ~ / \\ | ^ = [ ] { } ( ), line breaks or control characters in a name` };
    case 'username-prohibited-characters':
      return realm.registrationEmailAsUsername ? null : { test: { test: 'pattern', pattern: USERNAME, refuse: 'mismatch' },
        reason: `${message('error-username-invalid-character')}: Keycloak takes no spaces, quotes or < > & $ % ! # ? § , ; : * ~ / \\ | ^ = [ ] { } ( ) \` in a username` };
    case 'up-username-not-idn-homograph':
      return { test: { test: 'pattern', pattern: LATIN_OR_COMMON, refuse: 'mismatch' },
        reason: `${message('error-username-invalid-character')}: Keycloak takes only Latin letters, digits and common signs in a username` };
    case 'email': {
      const ascii = realm.utf8LocalParts !== true;
      return { test: { test: 'email', maxLocalLength: number(config['max-local-length']) ?? 64, asciiLocalPart: ascii },
        reason: `${message('error-invalid-email')}: Keycloak takes an address whose domain IDNA 2003 reads${ascii
          ? ` and whose part before the @ is ASCII (${realm.utf8LocalParts === false ? 'its mail server setting allowutf8 is off' : 'unless its mail server allows UTF-8 (allowutf8), which fedctl\'s account cannot read without realm-management view-realm'})` : ''}` };
    }
    case 'pattern': {
      if (typeof config.pattern !== 'string') return null;
      try {
        new RegExp(config.pattern, 'u');
      } catch {
        return null;
      }
      return { test: { test: 'pattern', pattern: config.pattern, refuse: 'mismatch' }, reason: `${message('error-pattern-no-match')}: Keycloak's user profile requires it to match ${config.pattern}` };
    }
    default:
      return null;
  }
}

/**
 * What a realm's user profile refuses of the users a plan makes or changes,
 * as limits the planner checks: per validator of the fields fedctl writes,
 * on create and on a change of the field. Validators fedctl cannot run
 * (another extension's) are left to Keycloak.
 */
export function profileLimits(profile: KeycloakUserProfile, realm: RealmSettings): ChangeLimit[] {
  return (profile.attributes ?? []).flatMap((attribute) => {
    const field = ownValue(FIELDS, attribute.name);
    if (field === undefined) return [];
    return Object.entries(attribute.validations ?? {}).flatMap(([id, config]) => {
      const known = translate(id, config, realm);
      if (known === null) return [];
      const reason = `${known.reason} (the user profile of realm ${realm.realm})`;
      return (['create', { field }] as const).map((change): ChangeLimit => ({ kind: 'user', change, refusedValue: { field, tests: [known.test] }, reason }));
    });
  });
}
