import { NEWEST_RELEASE, type DatabaseRelease } from '../catalog/vantage6-versions.js';
import type { DatabaseAdapter, Vantage6Db } from './database-adapter.js';
import { inspectSchema, requireVantage6 } from './inspect-schema.js';
import { schemaStatements, seedStatements } from './reference-sql.js';

/** `created`: the schema and seed were written; `exists`: the database was already a vantage6 database. */
export type InitOutcome = 'created' | 'exists';

/**
 * Inside a write transaction: create a release's schema, rule catalogue and
 * default roles, as its server does at its first start, unless the database
 * already is a vantage6 database (of any release). A partial schema is refused.
 */
export async function initializeSchema(adapter: DatabaseAdapter, trx: Vantage6Db, release: DatabaseRelease = NEWEST_RELEASE): Promise<InitOutcome> {
  const status = await inspectSchema(adapter, trx);
  if (status.kind === 'vantage6') return 'exists';
  if (status.kind === 'partial') requireVantage6(status, adapter.target.display);
  await adapter.executeStatements(trx, schemaStatements(adapter.engine, release));
  await adapter.executeStatements(trx, seedStatements(adapter.engine, release));
  return 'created';
}

/** `fedctl init`: one transaction, serialized like apply. */
export async function initDatabase(adapter: DatabaseAdapter, lockTimeoutMs: number, release: DatabaseRelease = NEWEST_RELEASE): Promise<InitOutcome> {
  return adapter.writeTransaction((trx) => initializeSchema(adapter, trx, release), { lockTimeoutMs });
}
