import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { FEDCTL_BIN, runCli } from '../helpers/run-cli.js';
import { EXAMPLE_CONFIG, exampleText } from '../helpers/fixtures.js';

const PLAN_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8')) as object;
const validatePlan = new Ajv2020({ allErrors: true, strict: false }).compile(PLAN_SCHEMA);

interface Report {
  source: string;
  users: { username: string; organization: string; roles: string[]; permissions: { resource: string; operation: string; scope: string; on: string[]; via: string[] }[] }[];
}

function workdir(): { cwd: string; config: string } {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'fedctl-access-'));
  const config = path.join(cwd, 'federation.yaml');
  copyFileSync(EXAMPLE_CONFIG, config);
  return { cwd, config };
}

describe('fedctl access', () => {
  it('lists every user of a config with counts, offline', async () => {
    const { cwd, config } = workdir();
    const result = await runCli(['access', config, '--no-color'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^5 user\(s\) in the config \(vantage6 4\.15\)\./);
    for (const user of ['anna.devries', 'bram.jansen', 'lotte.peeters', 'felix.wagner', 'ingrid.hansen']) assert.match(result.stdout, new RegExp(`\\n  ${user.replace('.', '\\.')} `));
    assert.match(result.stdout, /bram\.jansen +IKNL +\d+ +0 +Data Steward \(IKNL\), Researcher/);
    const json = await runCli(['access', config, '--json'], { cwd });
    const summary = JSON.parse(json.stdout) as { users: { username: string; permissions: number; global: number; roles: string[] }[] };
    assert.deepEqual(summary.users.find((u) => u.username === 'anna.devries'), {
      username: 'anna.devries', organization: 'IKNL', roles: ['Collaboration Admin'], permissions: 27, global: 1,
    });
  });

  it('says what one user can do, where, and through which role; the same from the config and from the database it was applied to', async () => {
    const { cwd, config } = workdir();
    const offline = await runCli(['access', config, '--user', 'bram.jansen', '--user', 'anna.devries', '--json'], { cwd });
    assert.equal(offline.code, 0, offline.stderr);
    const report = JSON.parse(offline.stdout) as Report;
    const bram = report.users[0];
    assert.equal(bram?.organization, 'IKNL');
    const study = bram?.permissions.find((p) => p.resource === 'study' && p.operation === 'create');
    assert.deepEqual(study, {
      resource: 'study', operation: 'create', scope: 'collaboration', via: ['Data Steward (IKNL)'],
      on: ['collaboration "Colorectal Cancer Survival"', 'collaboration "Rare Tumours Registry"', 'organization "Charité Berlin"', 'organization "IKNL"', 'organization "Maastricht UMC+"', 'organization "Oslo University Hospital"'],
    });
    assert.equal(report.users[1]?.permissions.find((p) => p.resource === 'organization' && p.operation === 'view')?.scope, 'global');

    const applied = await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4'], { cwd });
    assert.equal(applied.code, 0, applied.stderr);
    const live = await runCli(['access', '--user', 'bram.jansen', '--user', 'anna.devries', '--json'], { cwd });
    assert.equal(live.code, 0, live.stderr);
    const fromDatabase = JSON.parse(live.stdout) as Report;
    assert.equal(fromDatabase.source, 'sqlite:///federation.sqlite');
    assert.deepEqual(fromDatabase.users.map(({ username, organization, roles, permissions }) => ({ username, organization, roles, permissions })), report.users.map(({ username, organization, roles, permissions }) => ({ username, organization, roles, permissions })));
  });

  it('says a disabled user is disabled: they may do nothing and the server lists them nothing', async () => {
    const { cwd } = workdir();
    const config = path.join(cwd, 'hq.yaml');
    writeFileSync(config, 'vantage6: "5.0"\norganizations: [{name: O}]\nusers:\n  - {username: leaver, organization: O, roles: [Root], enabled: false}\n');
    const text = await runCli(['access', config, '--user', 'leaver', '--no-color'], { cwd });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Roles: Root\n\n {2}Disabled: they cannot log in, so they may do nothing and the server lists them nothing/);
    assert.doesNotMatch(text.stdout, /lists to them/);
    const json = JSON.parse((await runCli(['access', config, '--user', 'leaver', '--json'], { cwd })).stdout) as { users: { enabled: boolean; permissions: unknown[]; lists: Record<string, unknown[]> }[] };
    assert.equal(json.users[0]?.enabled, false);
    assert.deepEqual(json.users[0]?.permissions, []);
    assert.ok(Object.values(json.users[0]?.lists ?? {}).every((names) => Array.isArray(names) && names.length === 0), JSON.stringify(json.users[0]?.lists));
  });

  it('says who can do something, on one collaboration', async () => {
    const { cwd, config } = workdir();
    const result = await runCli(['access', config, '--who-can', 'task:create', '--on', 'Colorectal Cancer Survival', '--json'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { resource: string; operation: string; on: string; users: { username: string; scope: string; via: string[] }[] };
    assert.deepEqual([answer.resource, answer.operation, answer.on], ['task', 'create', 'Colorectal Cancer Survival']);
    assert.deepEqual(answer.users.map((u) => [u.username, u.scope, u.via.join('+')]), [
      ['anna.devries', 'collaboration', 'Collaboration Admin'], ['bram.jansen', 'collaboration', 'Researcher'], ['felix.wagner', 'collaboration', 'Researcher'],
    ]);
    // Oslo is not in "Colorectal Cancer Survival": its researcher-less viewer is not among them, nor in the table.
    const table = await runCli(['access', config, '--who-can', 'task:create', '--on', 'Colorectal Cancer Survival', '--no-color'], { cwd });
    assert.match(table.stdout, /^3 users can create task on "Colorectal Cancer Survival"\./);
    assert.doesNotMatch(table.stdout, /ingrid/);
  });

  it('refuses a question it cannot answer with exit 1 and what was meant', async () => {
    const { cwd, config } = workdir();
    const cases: [string[], RegExp][] = [
      [['--who-can', 'tsak:create'], /no rules for "tsak"\n {2}did you mean "task"\?/],
      [['--who-can', 'task:craete'], /there is no operation "craete"\n {2}did you mean "create"\?/],
      [['--who-can', 'task'], /--who-can takes RESOURCE:OPERATION/],
      [['--who-can', 'task:create', '--on', 'Colorectal'], /no organization or collaboration "Colorectal"\n {2}did you mean "Colorectal Cancer Survival"\?/],
      [['--on', 'IKNL'], /--on narrows --who-can/],
      [['--user', 'ana.devries'], /there is no user "ana\.devries"/],
      [['--store', 'https://store.example.org/api', '--user', 'anna.devries'], /--store reads a server's algorithm store; a config says its stores itself/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['access', config, ...args, '--no-color'], { cwd });
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '');
    }
  });

  it('ends quietly when its reader stops early', async () => {
    const { cwd, config } = workdir();
    const child = spawn(process.execPath, [FEDCTL_BIN, 'access', config, '--user', 'anna.devries', '--user', 'bram.jansen'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('guardrails in plan and apply', () => {
  const policy = `
policy:
  guardrails:
    - name: global scope only for admins
      rules: { scope: global }
      only: { roles: [Root, Collaboration Admin] }
`;

  it('a plan that breaks one exits 1 naming the guardrail, the users and the change; apply refuses and changes nothing', async () => {
    const { cwd, config } = workdir();
    const allowBram = policy.replace('only: { roles', 'only: { users: [bram.jansen], roles');
    const yusuf = '  - username: yusuf.kaya\n    organization: IKNL\n    roles: [Data Steward]\n';
    writeFileSync(config, exampleText().replace('\nusers:\n', `\nusers:\n${yusuf}`) + allowBram);
    assert.equal((await runCli(['apply', config, '--auto-approve', '--bcrypt-cost', '4'], { cwd })).code, 0);
    // yusuf.kaya leaves the config but stays on the server, holding the role that now gets a global rule.
    writeFileSync(config, exampleText()
      .replace('        scope: collaboration\n        operation: view\n      - resource: run', '        scope: global\n        operation: view\n      - resource: run') + allowBram);
    assert.equal((await runCli(['validate', config], { cwd })).code, 0);

    const plan = await runCli(['plan', config, '--no-color'], { cwd });
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /Access: 2 user\(s\) gain or lose permissions\.\n\n {2}! 2 users \(global scope or management\)\n {6}\+ task: view \(global\) everything\n/);
    assert.match(plan.stdout, /✗ "global scope only for admins": user "yusuf\.kaya" would hold task: view \(global\) through role "Data Steward \(IKNL\)"; only user "bram\.jansen", role "Root", role "Collaboration Admin" may\n {6}because role "Data Steward \(IKNL\)": rules \+ task: view \(global\), - task: view \(collaboration\)\n/);
    assert.match(plan.stderr, /breaks guardrail "global scope only for admins"/);

    const json = await runCli(['plan', config, '--json'], { cwd });
    assert.equal(json.code, 1);
    const saved = JSON.parse(json.stdout) as { violations: { guardrail: string; users: string[] }[] };
    assert.ok(validatePlan(saved), JSON.stringify(validatePlan.errors));
    assert.deepEqual(saved.violations.map((v) => [v.guardrail, v.users]), [['global scope only for admins', ['yusuf.kaya']]]);

    const markdown = await runCli(['plan', config, '--markdown'], { cwd });
    assert.match(markdown.stdout, /global scope only for admins/);

    const before = readFileSync(path.join(cwd, 'federation.sqlite'));
    const apply = await runCli(['apply', config, '--auto-approve'], { cwd });
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /breaks guardrail "global scope only for admins"/);
    assert.deepEqual(readFileSync(path.join(cwd, 'federation.sqlite')), before);
  });

  it('validate fails on a config that breaks its own guardrail, at the user', async () => {
    const { cwd, config } = workdir();
    writeFileSync(config, exampleText() + policy.replace('[Root, Collaboration Admin]', '[Root]'));
    const result = await runCli(['validate', config, '--no-color'], { cwd });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /federation\.yaml:\d+:\d+ users\[\d\]: breaks guardrail "global scope only for admins": holds organization: view \(global\) through role "Collaboration Admin"/);
  });
});
