import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FEDCTL_BIN, runCli } from '../helpers/run-cli.js';
import { EXAMPLE_CONFIG, exampleText } from '../helpers/fixtures.js';
import { openSqlite } from '../../src/db/sqlite/sqlite-driver.js';

const exec = promisify(execFile);

function workdir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'fedctl-cli-'));
}

/** Run the installed command as a user does: a separate process through bin/fedctl.js. */
async function fedctl(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [FEDCTL_BIN, ...args], { cwd, env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the fedctl command', () => {
  it('shows help with the database options, and its version', async () => {
    const cwd = workdir();
    const help = await fedctl(['plan', '--help'], cwd);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--database <url>/);
    assert.match(help.stdout, /postgresql\+psycopg2:\/\/user:password@localhost\/vantage6/);
    assert.match(help.stdout, /sqlite:\/\/\/federation\.sqlite in the working directory/);
    assert.match(help.stdout, /--detailed-exitcode/);
    const version = await fedctl(['--version'], cwd);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });

  it('validates the example: exit 0', async () => {
    const result = await fedctl(['validate', EXAMPLE_CONFIG], workdir());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /The config is valid for vantage6 4\.15: 4 organizations, 2 collaborations, 5 nodes, 1 studies, 2 roles, 5 users\./);
  });

  it('reports a misspelt reference, a duplicate username and a wrong type at once, one located line each', async () => {
    const cwd = workdir();
    writeFileSync(path.join(cwd, 'broken.yaml'), exampleText()
      .replace('    organization: Oslo University Hospital\n    firstname: Ingrid', '    organization: Oslo Univrsity Hospital\n    firstname: Ingrid')
      .replace('username: lotte.peeters', 'username: bram.jansen')
      .replace('encrypted: false', 'encrypted: nope'));
    const result = await fedctl(['validate', 'broken.yaml'], cwd);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      'broken.yaml:71:15 users[2].username: duplicate username "bram.jansen" (already declared at broken.yaml:65:15)',
      'broken.yaml:88:19 users[4].organization: unknown organization "Oslo Univrsity Hospital" (did you mean "Oslo University Hospital"?)',
      'broken.yaml:104:16 collaborations[1].encrypted: must be boolean, not string "nope"',
      '3 errors.',
    ]);
  });

  it('plan on the default embedded database creates nothing, and says everything would be created', async () => {
    const cwd = workdir();
    copyFileSync(EXAMPLE_CONFIG, path.join(cwd, 'federation.yaml'));
    const result = await fedctl(['plan', 'federation.yaml', '--detailed-exitcode'], cwd);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /sqlite:\/\/\/federation\.sqlite is empty: the vantage6 4\.15 schema.*will be created first/);
    assert.match(result.stdout, /Plan: 19 to add, 0 to change, 0 to destroy\./);
    assert.doesNotMatch(result.stdout, /\x1b\[/);
    assert.deepEqual(readdirSync(cwd), ['federation.yaml']);
  });

  it('apply on the default embedded database initialises it, writes the secrets file, and is idempotent', async () => {
    const cwd = workdir();
    copyFileSync(EXAMPLE_CONFIG, path.join(cwd, 'federation.yaml'));
    const first = await fedctl(['apply', 'federation.yaml', '--auto-approve', '--bcrypt-cost', '4'], cwd);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Initialised sqlite:\/\/\/federation\.sqlite with the vantage6 4\.15 schema\./);
    assert.match(first.stdout, /Apply complete: 19 added, 0 changed, 0 destroyed\./);
    assert.match(first.stdout, /to .*fedctl-secrets\.yaml\./);
    assert.ok(existsSync(path.join(cwd, 'federation.sqlite')));
    assert.equal(statSync(path.join(cwd, 'fedctl-secrets.yaml')).mode & 0o777, 0o600);
    const secrets = readFileSync(path.join(cwd, 'fedctl-secrets.yaml'), 'utf8');
    for (const key of secrets.match(/[0-9a-f]{8}-[0-9a-f-]{27}/g) ?? []) assert.ok(!first.stdout.includes(key) && !first.stderr.includes(key));
    const second = await fedctl(['apply', 'federation.yaml', '--auto-approve'], cwd);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /^No changes\./);
    assert.equal(readFileSync(path.join(cwd, 'fedctl-secrets.yaml'), 'utf8'), secrets);
  });

  it('hashes with cost 12 by default', async () => {
    const cwd = workdir();
    writeFileSync(path.join(cwd, 'one.yaml'), 'organizations: [{name: A}]\ncollaborations: [{name: C, members: [{organization: A}]}]\n');
    const result = await fedctl(['apply', 'one.yaml', '--auto-approve', '--database', 'sqlite:///one.sqlite'], cwd);
    assert.equal(result.code, 0, result.stderr);
    const db = openSqlite(path.join(cwd, 'one.sqlite'), { readonly: true, busyTimeoutMs: 5_000 });
    try {
      assert.match(String((db.prepare('select api_key from node').get([]) as { api_key: string }).api_key), /^\$2b\$12\$/);
    } finally {
      db.close();
    }
  });

  it('refuses --bcrypt-cost through a server\'s API before connecting: by --server, or the config\'s server: block', async () => {
    const cwd = workdir();
    // Nothing listens there: the refusal must come before any connection is tried.
    writeFileSync(path.join(cwd, 'api.yaml'), 'server:\n  url: http://127.0.0.1\n  port: 9\n  manage: api\norganizations: [{name: A}]\n');
    writeFileSync(path.join(cwd, 'plain.yaml'), 'organizations: [{name: A}]\n');
    for (const args of [['plain.yaml', '--server', 'http://127.0.0.1:9/api'], ['api.yaml']]) {
      const result = await fedctl(['apply', ...args, '--auto-approve', '--bcrypt-cost', '10'], cwd);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^Error: --bcrypt-cost does nothing here: through http:\/\/127\.0\.0\.1:9(\/api)? the server hashes keys and passwords at its own cost\n/);
      assert.doesNotMatch(result.stderr, /cannot reach|log in/i);
    }
  });

  it('apply without a terminal and without --auto-approve refuses and touches nothing', async () => {
    const cwd = workdir();
    copyFileSync(EXAMPLE_CONFIG, path.join(cwd, 'federation.yaml'));
    const result = await runCli(['apply', path.join(cwd, 'federation.yaml')], { cwd });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: apply needs confirmation, but there is no terminal to ask\n {2}review the plan and pass --auto-approve\n$/);
    assert.deepEqual(readdirSync(cwd), ['federation.yaml']);
  });

  it('colours only on a terminal without NO_COLOR or --no-color', async () => {
    const cwd = workdir();
    const config = path.join(cwd, 'federation.yaml');
    copyFileSync(EXAMPLE_CONFIG, config);
    assert.match((await runCli(['plan', config], { cwd, tty: true })).stdout, /\x1b\[/);
    assert.doesNotMatch((await runCli(['plan', config], { cwd, tty: true, env: { NO_COLOR: '1' } })).stdout, /\x1b\[/);
    assert.doesNotMatch((await runCli(['plan', config, '--no-color'], { cwd, tty: true })).stdout, /\x1b\[/);
  });

  it('refuses a database that is not vantage6, and an unreachable one, in one line without the password', async () => {
    const cwd = workdir();
    const config = path.join(cwd, 'federation.yaml');
    copyFileSync(EXAMPLE_CONFIG, config);
    const other = openSqlite(path.join(cwd, 'other.sqlite'), { readonly: false, busyTimeoutMs: 5_000 });
    other.exec('create table invoices (id integer primary key)');
    other.close();
    const foreign = await runCli(['plan', config, '--database', 'sqlite:///other.sqlite'], { cwd });
    assert.equal(foreign.code, 1);
    assert.equal(foreign.stderr, 'Error: no vantage6 tables in sqlite:///other.sqlite\n  `fedctl init` creates them in an empty database\n');
    const down = await runCli(['plan', config, '--database', 'postgresql://admin:Hunter2Secret@127.0.0.1:1/v6'], { cwd });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^Error: cannot connect to postgresql:\/\/admin:\*\*\*@127\.0\.0\.1:1\/v6: connection refused\n/);
    assert.ok(!down.stderr.includes('Hunter2Secret'));
    const missingEnv = await runCli(['plan', config], { cwd, env: { FEDCTL_DATABASE_URL: 'oracle://x' } });
    assert.equal(missingEnv.code, 1);
    assert.match(missingEnv.stderr, /^Error: unsupported database URL oracle:\/\/x\n/);
  });

  it('under --json keeps stdout to the JSON and still says the config\'s warnings, on stderr', async () => {
    const cwd = workdir();
    writeFileSync(path.join(cwd, 'federation.yaml'), exampleText().replace('password: generate', 'password: ${ANNA_PASSWORD}'));
    const plan = await runCli(['plan', path.join(cwd, 'federation.yaml'), '--json'], { cwd });
    assert.equal(plan.code, 0, plan.stdout);
    assert.equal((JSON.parse(plan.stdout) as { summary: { add: number } }).summary.add, 19);
    assert.match(plan.stderr, /federation\.yaml:\d+:\d+ warning: users\[\d\]\.password: environment variable ANNA_PASSWORD is not set/);
  });

  it('takes --no-color on every command that prints, and --json on those with a JSON form', async () => {
    const cwd = workdir();
    const config = path.join(cwd, 'federation.yaml');
    copyFileSync(EXAMPLE_CONFIG, config);
    const commands = (help: string): string[] => [...(help.split('Commands:')[1] ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] as string).filter((c) => c !== 'help');
    const leaves: string[][] = [];
    for (const command of commands((await runCli(['--help'], { cwd })).stdout)) {
      const sub = commands((await runCli([command, '--help'], { cwd })).stdout);
      if (sub.length === 0) leaves.push([command]);
      else leaves.push(...sub.map((s) => [command, s]));
    }
    assert.ok(leaves.length >= 8, JSON.stringify(leaves));
    for (const leaf of leaves) assert.match((await runCli([...leaf, '--help'], { cwd })).stdout, /--no-color/, leaf.join(' '));

    const json = async (args: string[]): Promise<Record<string, unknown>> => {
      const result = await runCli([...args, '--json', '--no-color'], { cwd });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    assert.equal((await json(['validate', config])).valid, true);
    assert.equal((await json(['init'])).done, 'created');
    assert.equal((await json(['init'])).done, 'nothing');
    assert.equal((await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4', '--no-color'], { cwd })).code, 0);
    assert.equal(((await json(['export'])).config as { organizations: unknown[] }).organizations.length, 4);
    assert.equal(((await json(['history'])).applies as unknown[]).length, 1);
    for (const args of [['history'], ['history', 'list'], ['history', 'show', '1'], ['export'], ['validate', config], ['init']]) {
      const plain = await runCli([...args, '--no-color'], { cwd, tty: true });
      assert.equal(plain.code, 0, `${args.join(' ')} --no-color: ${plain.stderr}`);
      assert.doesNotMatch(plain.stdout, /\x1b\[/);
    }
  });
});
