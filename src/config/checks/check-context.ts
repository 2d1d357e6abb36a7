import {
  OPERATIONS, OPERATION_SPELLINGS, SCOPES, SCOPE_SPELLINGS, parseRuleKey, readableSpelling, ruleKey, spelledValues, type RuleKey, type RuleTriple,
} from '../../catalog/rule-catalog.js';
import { referenceCatalog } from '../../catalog/reference-catalog.js';
import { describeServer, type ServerProfile } from '../../catalog/server-profile.js';
import { NEWEST_OF_EACH_LINE } from '../../catalog/vantage6-versions.js';
import { sortedUnique } from '../../federation.js';
import type { Diagnostic, DocumentPath, SourceLocation } from '../../diagnostic.js';
import type { Environment } from '../interpolate.js';
import type { ConfigDocument } from '../load-config.js';
import { didYouMean } from '../../suggest.js';

/** The resources of the newest releases fedctl knows: those the schema accepts. */
const NEWEST_RESOURCES: ReadonlySet<string> = new Set(NEWEST_OF_EACH_LINE.flatMap((release) => referenceCatalog(release).rules.map((rule) => rule.resource)));

/** One list item of the merged config, and where it came from. */
export interface Entry {
  readonly document: ConfigDocument;
  readonly path: DocumentPath;
  readonly value: Readonly<Record<string, unknown>>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** An optional text field: empty is none, as the server reads it. */
export function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * What every kind's checks share: the server checked against (its rules by
 * resource), where problems go, and the checks of identities, references
 * and rules that every kind makes.
 */
export class CheckContext {
  /** The server's rules by resource, and all their keys (checked for every rule of every role and user). */
  private readonly rules = new Map<string, RuleTriple[]>();
  private readonly ruleKeys: ReadonlySet<string>;
  readonly serverName: string;

  constructor(
    private readonly diagnostics: Diagnostic[],
    readonly env: Environment,
    readonly server: ServerProfile,
  ) {
    this.serverName = describeServer(server);
    for (const key of server.rules) {
      const rule = parseRuleKey(key);
      this.rules.set(rule.resource, [...(this.rules.get(rule.resource) ?? []), rule]);
    }
    this.ruleKeys = new Set(server.rules);
  }

  error(entry: Entry, sub: DocumentPath, message: string, hint?: string): void {
    const path = [...entry.path, ...sub];
    this.diagnostics.push({ severity: 'error', location: entry.document.locate(path), path, message, hint });
  }

  warning(entry: Entry, sub: DocumentPath, message: string, hint?: string): void {
    const path = [...entry.path, ...sub];
    this.diagnostics.push({ severity: 'warning', location: entry.document.locate(path), path, message, hint });
  }

  where(entry: Entry, sub: DocumentPath = []): string {
    const location: SourceLocation = entry.document.locate([...entry.path, ...sub]);
    return `${location.file}:${location.line}:${location.column}`;
  }

  /** Registers identities, reporting the second of two equal ones with the place of the first. */
  unique<K>(what: string, identity: (entry: Entry) => K | null, keyOf: (k: K) => string, entries: Entry[], field: string, describe: (k: K) => string): Map<string, Entry> {
    const seen = new Map<string, Entry>();
    for (const entry of entries) {
      const id = identity(entry);
      if (id === null) continue;
      const key = keyOf(id);
      const first = seen.get(key);
      if (first) {
        this.error(entry, [field], `duplicate ${what} ${describe(id)}`, `already declared at ${this.where(first, [field])}`);
      } else {
        seen.set(key, entry);
      }
    }
    return seen;
  }

  reference(entry: Entry, sub: DocumentPath, kind: string, name: string, known: ReadonlySet<string>): boolean {
    if (known.has(name)) return true;
    this.error(entry, sub, `unknown ${kind} ${JSON.stringify(name)}`, didYouMean(name, known) ?? `declare it under ${kind === 'organization' ? 'organizations' : `${kind}s`}`);
    return false;
  }

  expandRules(entry: Entry, sub: DocumentPath, value: unknown): RuleKey[] {
    const keys: RuleKey[] = [];
    const server = this.serverName;
    list(value).forEach((item, index) => {
      if (!isRecord(item) || typeof item.resource !== 'string') return;
      const at = [...sub, index];
      const resource = item.resource;
      const scopes = spelledValues(item.scope, SCOPE_SPELLINGS, SCOPES);
      const operations = spelledValues(item.operation, OPERATION_SPELLINGS, OPERATIONS);
      if (scopes === null || operations === null) return;
      const available = this.rules.get(resource) ?? [];
      // A resource no release has is the schema's error, with what was meant; this one is for older servers.
      if (available.length === 0 && !NEWEST_RESOURCES.has(resource)) return;
      if (available.length === 0) {
        this.error(entry, at, `${server} has no rules for ${resource}`, 'the rules come from the server\'s own catalogue; upgrade the server or remove this rule');
        return;
      }
      const has = (): string => `${resource} has: ${available.map((r) => `${readableSpelling(r.operation)}/${readableSpelling(r.scope)}`).join(', ')}`;
      const explicit = item.scope !== 'all' && item.operation !== 'all';
      let found = 0;
      for (const scope of scopes) {
        for (const operation of operations) {
          const key = ruleKey({ resource, scope, operation });
          if (this.ruleKeys.has(key)) {
            keys.push(key);
            found++;
          } else if (explicit) {
            this.error(entry, at, `${server} has no rule to ${readableSpelling(operation)} ${resource} with scope ${readableSpelling(scope)}`, has());
          }
        }
      }
      if (!explicit && found === 0) this.error(entry, at, `no rule of ${resource} in ${server} matches these scopes and operations`, has());
    });
    return sortedUnique(keys);
  }
}
