import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A PostgreSQL database of its own (tests, benchmark), created beside the admin URL's and dropped after. */
export interface ScratchPostgres {
  readonly url: string;
  drop(): Promise<void>;
}

async function run(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function createScratchPostgres(adminUrl: string, prefix: string): Promise<ScratchPostgres> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await run(adminUrl, `create database ${name}`);
  return {
    url: adminUrl.replace(/\/[^/]*$/, `/${name}`),
    drop: () => run(adminUrl, `drop database if exists ${name} with (force)`),
  };
}
