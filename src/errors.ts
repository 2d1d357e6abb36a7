import type { Diagnostic } from './diagnostic.js';

/** Stable codes for failures that are not config diagnostics; scripts may match on them. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'DATABASE_URL_INVALID'
  | 'DATABASE_UNREACHABLE'
  | 'DATABASE_NOT_VANTAGE6'
  | 'DATABASE_SCHEMA_INCOMPLETE'
  | 'DATABASE_MISSING'
  | 'DATABASE_STATE_INVALID'
  | 'SERVER_CONFIG_INVALID'
  | 'SECRETS_FILE'
  | 'SECRETS_RECIPIENT'
  | 'HISTORY_NOT_FOUND'
  | 'APPLY_FAILED'
  | 'APPLY_ABORTED'
  | 'PLAN_CHANGED'
  | 'NOT_INTERACTIVE'
  | 'INTERRUPTED'
  | 'COMMIT_UNKNOWN'
  | 'BACKEND_AMBIGUOUS'
  | 'BACKEND_UNSUPPORTED'
  | 'SERVER_UNREACHABLE'
  | 'SERVER_LOGIN'
  | 'SERVER_ACCOUNT'
  | 'SERVER_REFUSED'
  | 'APPLY_STOPPED'
  | 'ACCESS_QUERY_INVALID'
  | 'NODE_INCOMPATIBLE'
  | 'STORE_UNREACHABLE'
  | 'STORE_REFUSED'
  | 'STORE_ACCOUNT'
  | 'STORE_NOT_LINKED'
  | 'KEYCLOAK_REFUSED'
  | 'KEYCLOAK_ACCOUNT'
  | 'ADAPT_INVALID';

/**
 * A failure the user can act on: `message` says what went wrong in one line,
 * `hint` what to do next. The CLI prints these without a stack trace.
 */
export class FedctlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown; diagnostics?: readonly Diagnostic[] },
  ) {
    super(message, options);
    this.name = 'FedctlError';
    this.diagnostics = options?.diagnostics ?? [];
  }

  /** The config problems behind a CONFIG_INVALID error, for --json output. */
  readonly diagnostics: readonly Diagnostic[];
}

export function isFedctlError(error: unknown): error is FedctlError {
  return error instanceof FedctlError;
}

/** The message of anything thrown, for wrapping driver errors into one line. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
