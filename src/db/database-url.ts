import path from 'node:path';
import { FedctlError } from '../errors.js';

export type Engine = 'postgres' | 'sqlite';

/** Where the vantage6 database is; `display` is safe to print (no password). */
export type DatabaseTarget =
  | { readonly engine: 'postgres'; readonly connectionString: string; readonly display: string }
  | { readonly engine: 'sqlite'; readonly file: string; readonly display: string };

/** The embedded default: a SQLite file in the working directory. */
export const DEFAULT_DATABASE_URL = 'sqlite:///federation.sqlite';

/** Replace any password in a URL-like string, also when it is too malformed to parse. */
export function maskPassword(url: string): string {
  // Up to the last @ of the authority, as URL parsers read it.
  return url.replace(/^([a-z0-9+.-]+:\/\/[^:/@]*):[^/]*@/i, '$1:***@');
}

/**
 * Parse a database URL as vantage6 writes them (SQLAlchemy form):
 * `postgresql://user:pass@host:5432/db`, `postgresql+psycopg2://…`,
 * `sqlite:///relative.sqlite` (against `baseDir`), `sqlite:////absolute.sqlite`.
 */
export function parseDatabaseUrl(url: string, baseDir: string): DatabaseTarget {
  const shown = maskPassword(url);
  const sqlite = /^sqlite:\/\/\/(.+)$/.exec(url);
  if (sqlite) {
    const raw = sqlite[1] as string;
    if (raw === ':memory:') {
      throw new FedctlError('DATABASE_URL_INVALID', `an in-memory database cannot be managed: ${shown}`, 'give a file, e.g. sqlite:///federation.sqlite');
    }
    const file = path.resolve(baseDir, raw);
    return { engine: 'sqlite', file, display: `sqlite:///${raw}` };
  }
  if (/^sqlite:/.test(url)) {
    throw new FedctlError('DATABASE_URL_INVALID', `invalid SQLite URL ${shown}`,
      'use sqlite:///relative/path.sqlite or sqlite:////absolute/path.sqlite');
  }
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgresql' || scheme === 'postgres' || scheme === 'postgresql+psycopg2') {
    const normalized = url.replace(/^[a-z0-9+.-]+:/i, 'postgresql:');
    let parsed: URL;
    try {
      parsed = new URL(normalized);
    } catch {
      throw new FedctlError('DATABASE_URL_INVALID', `invalid PostgreSQL URL ${shown}`, 'expected postgresql://user:password@host:5432/database');
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (parsed.hostname === '' || database === '') {
      throw new FedctlError('DATABASE_URL_INVALID', `PostgreSQL URL ${shown} needs a host and a database name`, 'expected postgresql://user:password@host:5432/database');
    }
    return { engine: 'postgres', connectionString: normalized, display: maskPassword(normalized) };
  }
  throw new FedctlError('DATABASE_URL_INVALID', `unsupported database URL ${shown}`,
    'fedctl supports postgresql://user:password@host:5432/database and sqlite:///path.sqlite');
}
