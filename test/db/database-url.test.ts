import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { maskPassword, parseDatabaseUrl } from '../../src/db/database-url.js';
import { resolveDatabase } from '../../src/db/resolve-database.js';
import { FedctlError } from '../../src/errors.js';

describe('database URLs', () => {
  it('parses the forms vantage6 writes', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///federation.sqlite', '/work'), { engine: 'sqlite', file: '/work/federation.sqlite', display: 'sqlite:///federation.sqlite' });
    assert.deepEqual(parseDatabaseUrl('sqlite:////var/lib/v6/db.sqlite', '/work'), { engine: 'sqlite', file: '/var/lib/v6/db.sqlite', display: 'sqlite:////var/lib/v6/db.sqlite' });
    for (const url of ['postgresql://v6:s3cret@db:5432/vantage6', 'postgresql+psycopg2://v6:s3cret@db:5432/vantage6', 'postgres://v6:s3cret@db:5432/vantage6']) {
      const target = parseDatabaseUrl(url, '/work');
      assert.equal(target.engine, 'postgres');
      assert.equal(target.engine === 'postgres' && target.connectionString, 'postgresql://v6:s3cret@db:5432/vantage6');
      assert.equal(target.display, 'postgresql://v6:***@db:5432/vantage6');
    }
  });

  it('refuses malformed and unsupported URLs in one line, without the password', () => {
    const cases: [string, RegExp][] = [
      ['mysql://root:topsecret@db/v6', /^unsupported database URL mysql:\/\/root:\*\*\*@db\/v6$/],
      ['postgresql://u:topsecret@/v6', /^invalid PostgreSQL URL postgresql:\/\/u:\*\*\*@\/v6$/],
      ['postgresql://u:topsecret@db', /needs a host and a database name/],
      ['postgresql://u:topsecret@db:notaport/v6', /^invalid PostgreSQL URL postgresql:\/\/u:\*\*\*@db:notaport\/v6$/],
      ['sqlite://relative.sqlite', /^invalid SQLite URL/],
      ['sqlite:///:memory:', /in-memory database cannot be managed/],
      ['federation.sqlite', /^unsupported database URL/],
    ];
    for (const [url, expected] of cases) {
      assert.throws(() => parseDatabaseUrl(url, '/work'), (error: unknown) => {
        assert.ok(error instanceof FedctlError);
        assert.equal(error.code, 'DATABASE_URL_INVALID');
        assert.match(error.message, expected);
        assert.ok(!error.message.includes('topsecret'));
        return true;
      });
    }
    assert.equal(maskPassword('postgresql://user:p@ss:w0rd@host/db'), 'postgresql://user:***@host/db');
  });

  it('takes --database, then FEDCTL_DATABASE_URL, then the server config, then the default', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-url-'));
    const serverConfig = path.join(dir, 'server.yaml');
    writeFileSync(serverConfig, 'description: test server\nuri: sqlite:///server.sqlite\nport: 7601\n');
    const env = { FEDCTL_DATABASE_URL: 'sqlite:///from-env.sqlite' };
    assert.equal(resolveDatabase({ database: 'sqlite:///flag.sqlite', serverConfig }, env, '/cwd').target.display, 'sqlite:///flag.sqlite');
    assert.equal(resolveDatabase({ serverConfig }, env, '/cwd').source, 'FEDCTL_DATABASE_URL');
    const fromServer = resolveDatabase({ serverConfig }, {}, '/cwd');
    assert.equal(fromServer.source, '--server-config');
    assert.equal(fromServer.target.engine === 'sqlite' && fromServer.target.file, path.join(dir, 'server.sqlite'));
    assert.equal(resolveDatabase({ serverConfig }, { VANTAGE6_DB_URI: 'postgresql://a@h/db' }, '/cwd').source, 'VANTAGE6_DB_URI');
    const fallback = resolveDatabase({}, {}, '/cwd');
    assert.equal(fallback.isDefault, true);
    assert.equal(fallback.target.engine === 'sqlite' && fallback.target.file, '/cwd/federation.sqlite');
    writeFileSync(serverConfig, 'description: no uri\n');
    assert.throws(() => resolveDatabase({ serverConfig }, {}, '/cwd'), /has no top-level "uri"/);
  });
});
