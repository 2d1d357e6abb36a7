import { FedctlError } from '../errors.js';
import type { DatabaseAdapter, Vantage6Db } from './database-adapter.js';
import { inspectSchema, schemaProblem } from './inspect-schema.js';
import { schemaStatements, seedStatements } from './reference-sql.js';

/** `created`: the schema and seed were written; `exists`: the database was already complete. */
export type InitOutcome = 'created' | 'exists';

/**
 * Inside a write transaction: create the vantage6 4.14 schema, rule
 * catalogue and default roles, as a vantage6 server does at its first start,
 * unless the database already has them. A partial schema is refused.
 */
export async function initializeSchema(adapter: DatabaseAdapter, trx: Vantage6Db): Promise<InitOutcome> {
  const status = await inspectSchema(adapter, trx);
  if (status.kind === 'complete') return 'exists';
  if (status.kind === 'partial') throw schemaProblem(status, adapter.target.display) as FedctlError;
  await adapter.executeStatements(trx, schemaStatements(adapter.engine));
  await adapter.executeStatements(trx, seedStatements(adapter.engine));
  return 'created';
}

/** `fedctl init`: one transaction, serialized like apply. */
export async function initDatabase(adapter: DatabaseAdapter, lockTimeoutMs: number): Promise<InitOutcome> {
  return adapter.writeTransaction((trx) => initializeSchema(adapter, trx), { lockTimeoutMs });
}
