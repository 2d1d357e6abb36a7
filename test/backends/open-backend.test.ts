import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiBaseUrl, apiBaseUrls } from '../../src/backends/api/vantage6-api.js';
import { chooseBackend, requireDatabase, withConfigChoice } from '../../src/backends/open-backend.js';

const describeChoice = (choice: ReturnType<typeof chooseBackend>): string =>
  choice.kind === 'api' ? `api ${choice.url} from ${choice.source}` : `database ${choice.backend.display}${choice.byDefault ? ' by default' : ''}`;

describe('choosing the way in', () => {
  it('takes the first way given: flags, then the environment, then a server config, then the config, then the embedded database', () => {
    const choose = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}): string => describeChoice(chooseBackend(flags, env, '/work'));
    assert.equal(choose({ server: 'https://v6.example.org/api' }, { FEDCTL_DATABASE_URL: 'sqlite:///x.sqlite' }), 'api https://v6.example.org/api from --server');
    assert.equal(choose({ database: 'sqlite:///a.sqlite' }, { FEDCTL_SERVER_URL: 'https://v6.example.org' }), 'database sqlite:///a.sqlite');
    assert.equal(choose({}, { FEDCTL_SERVER_URL: 'https://v6.example.org' }), 'api https://v6.example.org from FEDCTL_SERVER_URL');
    assert.equal(choose({}, { FEDCTL_DATABASE_URL: 'postgresql://u:secret@h/db' }), 'database postgresql://u:***@h/db');
    assert.equal(choose({}), 'database sqlite:///federation.sqlite by default');
    const byDefault = chooseBackend({}, {}, '/work');
    assert.equal(describeChoice(withConfigChoice(byDefault, 'https://v6.example.org:8443/api')), 'api https://v6.example.org:8443/api from the config\'s server: block');
    // The config's way in does not override one the flags or environment name.
    assert.equal(describeChoice(withConfigChoice(chooseBackend({ database: 'sqlite:///a.sqlite' }, {}, '/work'), 'https://v6.example.org/api')), 'database sqlite:///a.sqlite');
  });

  it('refuses two ways at one level, and the API where only a database will do', () => {
    assert.throws(() => chooseBackend({ database: 'sqlite:///a.sqlite', server: 'https://v6.example.org' }, {}, '/work'), /--database and --server name two ways/);
    assert.throws(() => chooseBackend({}, { FEDCTL_DATABASE_URL: 'sqlite:///a.sqlite', FEDCTL_SERVER_URL: 'https://v6.example.org' }, '/work'), /are both set/);
    assert.throws(() => requireDatabase(chooseBackend({ server: 'https://v6.example.org' }, {}, '/work'), 'fedctl history'),
      /fedctl history needs the server's database, and --server names its API/);
  });

  it('takes the API\'s URL as given, with /api when it has no path, and refuses one with a password or query', () => {
    assert.equal(apiBaseUrl('https://v6.example.org'), 'https://v6.example.org/api');
    assert.equal(apiBaseUrl('https://v6.example.org/'), 'https://v6.example.org/api');
    assert.equal(apiBaseUrl('http://127.0.0.1:7601/api/'), 'http://127.0.0.1:7601/api');
    assert.equal(apiBaseUrl('https://hosted.example.org/v6/api'), 'https://hosted.example.org/v6/api');
    assert.throws(() => apiBaseUrl('https://admin:Hunter2@v6.example.org'), (error: Error) => !error.message.includes('Hunter2'));
    assert.throws(() => apiBaseUrl('ftp://v6.example.org'), /not a server URL/);
    assert.throws(() => apiBaseUrl('v6.example.org'), /not a server URL/);
    // Without a path, a 4.x server's /api or else vantage6 5's /hq; with one, only that.
    assert.deepEqual(apiBaseUrls('https://v6.example.org'), ['https://v6.example.org/api', 'https://v6.example.org/hq']);
    assert.deepEqual(apiBaseUrls('https://v6.example.org/hq'), ['https://v6.example.org/hq']);
  });
});
