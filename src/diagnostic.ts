/** Where in a config file something is; line and column are 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A path into a config document, as keys and array indexes. */
export type DocumentPath = readonly (string | number)[];

/**
 * One problem in the config. `path` is rendered as `users[2].organization`;
 * `hint` says what to do (a did-you-mean, the allowed values).
 */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly location: SourceLocation | null;
  readonly path: DocumentPath;
  readonly message: string;
  readonly hint?: string;
}

export function formatPath(path: DocumentPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(document)' : out;
}

/** `file:line:col path: message (hint)`, the one-line form every command prints. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = diagnostic.location
    ? `${diagnostic.location.file}:${diagnostic.location.line}:${diagnostic.location.column} `
    : '';
  const hint = diagnostic.hint ? ` (${diagnostic.hint})` : '';
  const prefix = diagnostic.severity === 'warning' ? 'warning: ' : '';
  return `${where}${prefix}${formatPath(diagnostic.path)}: ${diagnostic.message}${hint}`;
}

/** A diagnostic as --json prints it: severity, file, line and column, the path in the document, message and hint. */
export function diagnosticJson(diagnostic: Diagnostic): Record<string, unknown> {
  return {
    severity: diagnostic.severity,
    ...(diagnostic.location ?? {}),
    path: formatPath(diagnostic.path),
    message: diagnostic.message,
    ...(diagnostic.hint ? { hint: diagnostic.hint } : {}),
  };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
