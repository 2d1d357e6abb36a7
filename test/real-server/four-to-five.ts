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
import { acceptInvitation, invitationLink } from './keycloak.js';
import { grantUserRoles } from './keycloak-users.js';
import { isSession, type ServerSession } from './server-api.js';
import type { RealServer } from './real-server.js';

/** Where the moved nodes reach Keycloak, as their Helm values say. */
const NODES_KEYCLOAK = 'https://auth.v6.example.org';

/**
 * A 4.13 federation moved to HQ by the README's steps: the 4.x database
 * exported `--for 5.0`, that config planned against HQ (nothing refused)
 * and applied (killed half-way first, then run again), then planned as no
 * changes, no one invited twice. The invited users receive their
 * invitation, set a password and log in; users may start a session in their
 * collaboration (every task needs one in vantage6 5), those of a custom role
 * as its 4.x holders could create tasks, and the Organization Admin through
 * the role that carries what 4.13's built-in role gave.
 */
export async function fourToFive(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  await grantUserRoles(server);
  mkdirSync(dir, { recursive: true });
  const old = `sqlite:///${path.join(dir, 'four.sqlite')}`;
  writeFileSync(path.join(dir, 'four.yaml'), FOUR_X_FEDERATION);
  assert.equal((await runCli(['init', '--vantage6-version', '4.13', '--database', old], { cwd: dir })).code, 0);
  assert.equal((await runCli(['apply', path.join(dir, 'four.yaml'), '--database', old, '--auto-approve'], { cwd: dir })).code, 0);

  const five = path.join(dir, 'five.yaml');
  const exported = await runCli(['export', '--database', old, '--for', '5.0', '--node-policies-from', path.join(dir, 'four.yaml'), '-o', five], { cwd: dir });
  assert.equal(exported.code, 0, exported.stderr);
  // What the export never carries, the admin adds beside it: where HQ and its Keycloak are for the nodes, and who opens the secrets.
  const { identity } = copyExamples(dir);
  const publicKey = (name: string): string => /public key: (age1\S+)/.exec(readFileSync(identity(name), 'utf8'))?.[1] ?? '';
  const secrets = path.join(dir, 'move-secrets.yaml');
  writeFileSync(secrets, dump({
    secrets: { recipients: [publicKey('admin-anna')], organizations: { 'Zorg & Co! (4.x)': [publicKey('iknl-operator')], '東京病院 4x': [publicKey('iknl-operator')] } },
    server: { url: 'https://v6.example.org', keycloak: { url: NODES_KEYCLOAK } },
  }));
  const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: dir, env: server.account });
  const planned = await fedctl(['plan', five, secrets, '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout) as Plan;
  assert.deepEqual(plan.blocked, [], 'HQ takes the exported config as it is');
  assert.ok(plan.changes.every((change) => change.action === 'create'));

  // Each user's access on the 4.x server against HQ's after the plan, side by side with the causes: nobody loses a task
  // they could create, and what cannot be kept is listed (4.x's port rule, which vantage6 5 does not have).
  const compared = await fedctl(['plan', five, secrets, '--json', '--compare-with', old]);
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
  const shown = await fedctl(['plan', five, secrets, '--no-color', '--compare-with', old]);
  assert.match(shown.stdout, /Access compared with sqlite:\S+ \(vantage6 [^)]+\): \d+ user\(s\) can do otherwise here/);
  // Killed as soon as HQ has the first user, then run again: it converges, and no one is invited twice.
  const admin = await server.login.admin();
  const killed = await killFedctlWhen(['apply', five, secrets, '--server', server.api, '--auto-approve'], { cwd: dir, env: server.account },
    async () => ((await admin.list<{ username: string }>('/user?username=kenji.4x')) ?? []).length > 0);
  assert.ok(killed, 'the apply was killed half-way');
  const applied = await fedctl(['apply', five, secrets, '--auto-approve', '--no-color']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal((await fedctl(['plan', five, secrets, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');

  // Every node has its Keycloak client, and its Helm values, encrypted to its organization, log in as that node.
  const nodeFiles = readdirSync(path.join(dir, 'fedctl-secrets', 'nodes'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml.age'));
  assert.equal(nodeFiles.length, 2, nodeFiles.join(', '));
  for (const file of nodeFiles) {
    const values = openNodeFile(identity('iknl-operator'), path.join(dir, 'fedctl-secrets', 'nodes', file)) as { node: { name: string; policies?: Record<string, unknown> } };
    if (values.node.name === 'Zorg-Move-Node') {
      // The policies it had on 4.x, its allowed user by HQ's id (vantage6 5's node compares a task's user so).
      const zoeId = (await server.login.admin()).list<{ id: number; username: string }>('/user?username=zoe.4x');
      assert.deepEqual(values.node.policies, {
        allowed_algorithms: ['^harbor2\\.vantage6\\.ai/demo/.*$'], allowed_users: [String(((await zoeId) ?? [])[0]?.id)],
      });
    }
    const key = hqNodeValuesKey(identity('iknl-operator'), path.join(dir, 'fedctl-secrets', 'nodes', file), values.node.name, NODES_KEYCLOAK);
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
  const opened = await runCli(['secrets', 'show', path.join(dir, 'fedctl-secrets'), '-i', identity('admin-anna'), '--json'], { cwd: dir });
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
}
