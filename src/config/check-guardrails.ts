import { desiredAccessModel } from '../access/access-model.js';
import { FederationAccess } from '../access/user-access.js';
import type { ServerProfile } from '../catalog/server-profile.js';
import type { DesiredState } from '../federation.js';
import { describeAllowed, federationBreaches } from '../policy/guardrails.js';
import type { Diagnostic, DocumentPath, SourceLocation } from '../diagnostic.js';
import type { LocatedGuardrail } from './read-policy.js';

/** Where a config declares a user. */
export type LocateUser = (username: string) => { location: SourceLocation; path: DocumentPath } | null;

/**
 * The config checked against its own guardrails, with the built-in roles of
 * the server it is checked against: an error at each user holding what a
 * guardrail forbids them, and at each guardrail more users hold than it allows.
 */
export function guardrailDiagnostics(desired: DesiredState, located: readonly LocatedGuardrail[], locateUser: LocateUser, server: ServerProfile): Diagnostic[] {
  if (located.length === 0) return [];
  const access = new FederationAccess(desiredAccessModel(desired, server));
  const byName = new Map(located.map((l) => [l.guardrail.name, l]));
  return federationBreaches(located.map((l) => l.guardrail), access).map((breach): Diagnostic => {
    const declared = byName.get(breach.guardrail) as LocatedGuardrail;
    const guardrailAt = declared.document.locate(declared.path);
    const where = `${guardrailAt.file}:${guardrailAt.line}:${guardrailAt.column}`;
    const user = breach.username === undefined ? null : locateUser(breach.username);
    if (user === null) return { severity: 'error', location: guardrailAt, path: declared.path, message: breach.message, hint: 'take the rules from some of them, or raise at_most' };
    return {
      severity: 'error', location: user.location, path: user.path, message: breach.message,
      hint: `only ${describeAllowed(declared.guardrail)} may (guardrail at ${where}); change the user's roles or rules, or the guardrail`,
    };
  });
}
