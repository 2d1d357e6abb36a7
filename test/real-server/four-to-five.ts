import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import path from 'node:path';
import type { Plan } from '../../src/plan/plan.js';
import { FOUR_X_FEDERATION } from '../helpers/four-x-federation.js';
import { killFedctlWhen, runCli, type CliResult } from '../helpers/run-cli.js';
import { envelopeAddress } from './mailbox.js';
import { hqNodeValuesKey, openNodeFile } from './conformance.js';
import { copyExamples } from '../helpers/fixtures.js';
import { fedctlOnPath, ciRecipes, runGithubJob } from '../helpers/ci-recipes.js';
import { acceptInvitation, invitationLink } from './keycloak.js';
import { grantUserRoles } from './keycloak-users.js';
import { isSession, type ServerSession } from './server-api.js';
import type { RealServer } from './real-server.js';

/** Where the moved nodes reach Keycloak, as their Helm values say. */
const NODES_KEYCLOAK = 'https://auth.v6.example.org';

/**
 * A 4.13 federation moved to HQ by the steps of docs/moving-to-vantage6-5.md: the 4.x database
 * exported `--for 5.0`, that config planned against HQ (nothing refused)
 * and applied (killed half-way first, then run again), then planned as no
 * changes, no one invited twice. The invited users receive their
 * invitation, set a password and log in; users may start a session in their
 * collaboration (every task needs one in vantage6 5), those of a custom role
 * as its 4.x holders could create tasks, and the Organization Admin through
 * the role that carries what 4.13's built-in role gave. Then both servers
 * run, kept in step by the CI recipe of docs/ci.md: a user added to the 4.x
 * config reaches the 4.x server and HQ, and logs in to HQ.
 */
export async function fourToFive(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  await grantUserRoles(server);
  // The team's repository, laid out as the docs' steps and CI recipe have it: federation/ the 4.x config, five/ HQ's.
  const federation = path.join(dir, 'federation');
  const fiveDir = path.join(dir, 'five');
  mkdirSync(federation, { recursive: true });
  mkdirSync(fiveDir, { recursive: true });
  const old = `sqlite:///${path.join(dir, 'four.sqlite')}`;
  const fourConfig = path.join(federation, 'federation.yaml');
  const declared = `vantage6: "4.13"   # the release the 4.x server runs: its built-in roles are what users hold\n${FOUR_X_FEDERATION}`;
  writeFileSync(fourConfig, declared);
  assert.equal((await runCli(['init', '--vantage6-version', '4.13', '--database', old], { cwd: dir })).code, 0);
  assert.equal((await runCli(['apply', federation, '--database', old, '--auto-approve'], { cwd: dir })).code, 0);

  const exported = await runCli(['export', '--database', old, '--for', '5.0', '--node-policies-from', federation, '-o', path.join(fiveDir, 'federation.yaml')], { cwd: dir });
  assert.equal(exported.code, 0, exported.stderr);
  // What the export never carries, the admin adds beside it: where HQ and its Keycloak are for the nodes, and who opens the
  // secrets. Declaring vantage6 5, the same file serves the 4.x config planned --for 5.0 while both servers run.
  const { identity } = copyExamples(dir);
  const publicKey = (name: string): string => /public key: (age1\S+)/.exec(readFileSync(identity(name), 'utf8'))?.[1] ?? '';
  const hqFile = path.join(fiveDir, 'hq.yaml');
  writeFileSync(hqFile, dump({
    vantage6: '5.0',
    secrets: { recipients: [publicKey('admin-anna')], organizations: { 'Zorg & Co! (4.x)': [publicKey('iknl-operator')], '東京病院 4x': [publicKey('iknl-operator')] } },
    server: { url: 'https://v6.example.org', keycloak: { url: NODES_KEYCLOAK } },
  }));
  const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: dir, env: server.account });
  const planned = await fedctl(['plan', fiveDir, '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout) as Plan;
  assert.deepEqual(plan.blocked, [], 'HQ takes the exported config as it is');
  assert.ok(plan.changes.every((change) => change.action === 'create'));

  // Each user's access on the 4.x server against HQ's after the plan, side by side with the causes: nobody loses a task
  // they could create, and what cannot be kept is listed (4.x's port rule, which vantage6 5 does not have).
  const compared = await fedctl(['plan', fiveDir, '--json', '--compare-with', old]);
  assert.equal(compared.code, 0, compared.stderr);
  const across = (JSON.parse(compared.stdout) as Plan).accessAcross;
  assert.ok(across && across.server.startsWith('sqlite:'), JSON.stringify(across));
  const losses = across.groups.flatMap((g) => g.losses.map((l) => ({ users: g.users, what: `${l.resource}:${l.operation}:${l.scope}`, causes: g.causes })));
  assert.deepEqual(losses.filter((l) => l.what.startsWith('task:create')), [], 'nobody loses task creation');
  const portLoss = losses.find((l) => l.what === 'port:view:global');
  assert.deepEqual(portLoss?.users, ['zoe.4x']);
  assert.ok(portLoss?.causes.some((c) => c.startsWith('this server has no rule port: view (global)')), JSON.stringify(portLoss?.causes));
  const gains = across.groups.flatMap((g) => g.gains.map((i) => `${i.resource}:${i.operation}`));
  assert.ok(gains.includes('session:create'), 'task creators gain the sessions their tasks need');
  const shown = await fedctl(['plan', fiveDir, '--no-color', '--compare-with', old]);
  assert.match(shown.stdout, /Access compared with sqlite:\S+ \(vantage6 [^)]+\): \d+ user\(s\) can do otherwise here/);
  // Killed as soon as HQ has the first user, then run again: it converges, and no one is invited twice.
  const admin = await server.login.admin();
  const killed = await killFedctlWhen(['apply', fiveDir, '--server', server.api, '--auto-approve'], { cwd: dir, env: server.account },
    async () => ((await admin.list<{ username: string }>('/user?username=kenji.4x')) ?? []).length > 0);
  assert.ok(killed, 'the apply was killed half-way');
  const applied = await fedctl(['apply', fiveDir, '--auto-approve', '--no-color']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal((await fedctl(['plan', fiveDir, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');

  // Both servers in step while the nodes move: the 4.x config planned --for 5.0 beside HQ's own file agrees with what
  // the move made, each adaptation at the config's line; a user added to the 4.x config reaches both through the
  // CI recipe of docs/ci.md (the workflow's apply job for the 4.x server, apply-hq for HQ), read from that page and run as
  // Actions runs it. (Before anyone logs in: the test's first login fills in each user's Keycloak profile, which a plan would revert.)
  const inStep = await fedctl(['plan', federation, hqFile, '--for', '5.0', '--detailed-exitcode', '--no-color']);
  assert.equal(inStep.code, 0, `the 4.x config planned for vantage6 5 agrees with the move: ${inStep.stdout}${inStep.stderr}`);
  assert.match(inStep.stdout, /Adapted from the vantage6 4\.13 config for vantage6 5 \(\d+\)/);
  assert.match(inStep.stdout, /user "kenji\.4x" \(\S*federation\.yaml:\d+\).*: password: invite/);
  assert.match(inStep.stdout, /the node of "Zorg & Co! \(4\.x\)" in "Move & Measure 4x" \(\S*federation\.yaml:\d+\).*: named "Zorg-Move-Node"/);
  writeFileSync(fourConfig, declared.replace('collaborations:', `  - username: lina.joins
    organization: مستشفى 4x
    email: lina+joins@example.org
    roles: [Analyst 📊, Researcher]
collaborations:`));
  const recipes = ciRecipes();
  const ci = { PATH: `${fedctlOnPath(dir)}:${process.env.PATH ?? ''}`, HOME: dir, NO_COLOR: '1', GITHUB_ACTIONS: 'true', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' };
  const fourJob = runGithubJob(recipes.github.apply, 'apply', { cwd: dir, env: { ...ci, FEDCTL_DATABASE_URL: old } });
  assert.equal(fourJob.code, 0, fourJob.output);
  const hqJob = runGithubJob(recipes.extraJobs['apply-hq'], 'apply-hq', { cwd: dir, env: { ...ci, ...server.account, FEDCTL_SERVER_URL: server.api } });
  assert.equal(hqJob.code, 0, hqJob.output);
  assert.ok(((await admin.list<{ username: string }>('/user?username=lina.joins')) ?? []).length === 1, 'HQ has the new user');
  assert.equal((await runCli(['plan', federation, '--database', old, '--detailed-exitcode'], { cwd: dir })).code, 0, '4.x: no changes');
  assert.equal((await fedctl(['plan', federation, hqFile, '--for', '5.0', '--detailed-exitcode'])).code, 0, 'HQ: no changes');

  // Every node has its Keycloak client, and its Helm values, encrypted to its organization, log in as that node.
  const nodeFiles = readdirSync(path.join(fiveDir, 'fedctl-secrets', 'nodes'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml.age'));
  assert.equal(nodeFiles.length, 2, nodeFiles.join(', '));
  for (const file of nodeFiles) {
    const values = openNodeFile(identity('iknl-operator'), path.join(fiveDir, 'fedctl-secrets', 'nodes', file)) as { node: { name: string; policies?: Record<string, unknown> } };
    if (values.node.name === 'Zorg-Move-Node') {
      // The policies it had on 4.x, its allowed user by HQ's id (vantage6 5's node compares a task's user so).
      const zoeId = (await server.login.admin()).list<{ id: number; username: string }>('/user?username=zoe.4x');
      assert.deepEqual(values.node.policies, {
        allowed_algorithms: ['^harbor2\\.vantage6\\.ai/demo/.*$'], allowed_users: [String(((await zoeId) ?? [])[0]?.id)],
      });
    }
    const key = hqNodeValuesKey(identity('iknl-operator'), path.join(fiveDir, 'fedctl-secrets', 'nodes', file), values.node.name, NODES_KEYCLOAK);
    const node = await server.login.node(values.node.name, key);
    assert.ok(isSession(node), `node ${values.node.name} logs in with its Helm values: ${isSession(node) ? '' : node.refusal}`);
  }

  // The invited users follow their invitation and log in; the user without an e-mail address logs in with the generated password.
  const { mailbox } = keycloak;
  const invited = await mailbox.waitFor('noor+move@example.org');
  await acceptInvitation(invitationLink(invited.text), 'Moved-to-five-1!');
  const noor = await server.login.user('noor.4x', 'Moved-to-five-1!');
  assert.ok(isSession(noor), `the invited user logs in to HQ: ${isSession(noor) ? '' : noor.refusal}`);
  await mailbox.waitFor('kenji@例え.テスト');
  const sent = (address: string): number => mailbox.messages().filter((mail) => mail.to.includes(envelopeAddress(address))).length;
  assert.deepEqual([sent('noor+move@example.org'), sent('kenji@例え.テスト')], [1, 1], 'one invitation each, the kill notwithstanding');
  const opened = await runCli(['secrets', 'show', path.join(fiveDir, 'fedctl-secrets'), '-i', identity('admin-anna'), '--json'], { cwd: dir });
  assert.equal(opened.code, 0, opened.stderr);
  const generated = (JSON.parse(opened.stdout) as { users: Record<string, { password: string }> }).users['zoe.4x']?.password ?? '';
  const zoe = await server.login.user('zoe.4x', generated);
  assert.ok(isSession(zoe), `the user with a generated password logs in: ${isSession(zoe) ? '' : zoe.refusal}`);

  // What they did on 4.x they can start on vantage6 5: a session of their own in their collaboration.
  const startSession = async (session: ServerSession, name: string): Promise<void> => {
    const collaborations = (await session.list<{ id: number; name: string }>('/collaboration')) ?? [];
    const collaboration = collaborations.find((c) => c.name === 'Move & Measure 4x');
    assert.ok(collaboration, `${name} sees the collaboration`);
    const made = await session.request<{ id: number }>('POST', '/session', { collaboration_id: collaboration.id, scope: 'own', name: `${name}'s first session` });
    assert.ok(made.id > 0, `${name} starts a session`);
  };
  await startSession(noor, 'noor.4x');
  await startSession(zoe, 'zoe.4x');

  await acceptInvitation(invitationLink((await mailbox.waitFor('lina+joins@example.org')).text), 'Joined-both-1!');
  const lina = await server.login.user('lina.joins', 'Joined-both-1!');
  assert.ok(isSession(lina), `the user added during the move logs in to HQ: ${isSession(lina) ? '' : lina.refusal}`);
  await startSession(lina, 'lina.joins');
}
