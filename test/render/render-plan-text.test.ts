import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_PRUNING, NO_SECRETS_SETTINGS, type DesiredState } from '../../src/federation.js';
import { renderPlanText } from '../../src/render/render-plan-text.js';
import { freshState } from '../../src/state/fresh-state.js';
import { assessedPlan } from '../helpers/small-federations.js';

const desired: DesiredState = {
  organizations: [{ name: 'IKNL', domain: 'iknl.nl', address1: null, address2: null, zipcode: null, country: 'NL' }],
  collaborations: [{ name: 'Trial', encrypted: true, members: ['IKNL'] }],
  nodes: [{ organization: 'IKNL', collaboration: 'Trial', name: 'IKNL - Trial Node' }],
  studies: [],
  roles: [],
  users: [{ username: 'anna', organization: 'IKNL', firstname: 'Anna', lastname: null, email: null, enabled: true,
    roles: [{ name: 'Researcher', organization: null }], rules: ['event:GLOBAL:SEND'], password: { from: 'env', variable: 'ANNA_PW' } }],
  previousNames: {},
  prune: NO_PRUNING,
  secrets: NO_SECRETS_SETTINGS,
  history: true,
  api: null,
  policy: [], algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [], identityProviders: [],
};

describe('renderPlanText', () => {
  it('renders creates terraform-like, secrets as their source', () => {
    const plan = assessedPlan(desired, freshState(), { engine: 'sqlite', display: 'sqlite:///f.sqlite', initialize: true });
    assert.equal(renderPlanText(plan, { color: false, showUnmanaged: false }), `\
+ sqlite:///f.sqlite is empty: the vantage6 4.15 schema, rule catalogue and built-in roles will be created first.

fedctl will make these changes to sqlite:///f.sqlite (vantage6 4.13 to 4.15):

  + organization "IKNL"
      domain:  "iknl.nl"
      country: "NL"

  + collaboration "Trial"
      encrypted: true
      members:
        "IKNL"

  + node "IKNL - Trial Node"
      organization:  "IKNL"
      collaboration: "Trial"
      api_key:       (sensitive, generated into the secrets file)

  + user "anna"
      organization: "IKNL"
      firstname:    "Anna"
      roles:
        Researcher
      rules:
        event: send (global)
      password:     (sensitive, from $ANNA_PW)

Plan: 4 to add, 0 to change, 0 to destroy.

Access: 1 user(s) gain or lose permissions.

  ! user "anna" (global scope or management)
      + collaboration: view (organization) on organization "IKNL"
      + event: send (global) everything
      + event: receive (collaboration) on collaboration "Trial", organization "IKNL"
      + node: view (collaboration) on collaboration "Trial", organization "IKNL"
      + organization: view (collaboration) on collaboration "Trial", organization "IKNL"
      + port: view (organization) on organization "IKNL"
      + role: view (organization) on organization "IKNL"
      + run: view (collaboration) on collaboration "Trial", organization "IKNL"
      + study: view (organization) on organization "IKNL"
      + task: view (collaboration) on collaboration "Trial", organization "IKNL"
      + task: create (collaboration) on collaboration "Trial", organization "IKNL"
      + task: delete (organization) on organization "IKNL"
      + user: view (organization) on organization "IKNL"
      + user: edit (own) their own
      + user: delete (own) their own
      because they are created
`);
  });

  it('renders updates field by field, and counts or lists unmanaged objects', () => {
    const live = freshState();
    const state = {
      ...live,
      organizations: [{ id: 1, name: 'IKNL', domain: 'old.nl', address1: null, address2: null, zipcode: null, country: 'NL' }, { id: 2, name: 'root', domain: null, address1: null, address2: null, zipcode: null, country: null }],
      collaborations: [{ id: 1, name: 'Trial', encrypted: false, members: [] }],
      nodes: [{ id: 3, name: 'IKNL - Trial Node', organization: 'IKNL', collaboration: 'Trial' }],
      users: [{ id: 4, username: 'anna', organization: 'IKNL', firstname: 'Anna', lastname: null, email: null, enabled: true, roles: [], rules: ['event:GLOBAL:SEND'] }],
    };
    const plan = assessedPlan(desired, state, { engine: 'postgres', display: 'postgresql://u:***@h/db', initialize: false });
    const text = renderPlanText(plan, { color: false, showUnmanaged: false });
    assert.equal(text, `\
fedctl will make these changes to postgresql://u:***@h/db (vantage6 4.13 to 4.15):

  ~ organization "IKNL"
      domain: "old.nl" -> "iknl.nl"

  ~ collaboration "Trial"
      encrypted: false -> true
      members:
        + "IKNL"

  ~ user "anna"
      roles:
        + "Researcher"

Plan: 0 to add, 3 to change, 0 to destroy.

Access: 1 user(s) gain or lose permissions.

  ~ user "anna"
      + collaboration: view (organization) on organization "IKNL"
      + event: receive (collaboration) on collaboration "Trial", organization "IKNL"
      + node: view (collaboration) on collaboration "Trial", organization "IKNL"
      + organization: view (collaboration) on collaboration "Trial", organization "IKNL"
      + port: view (organization) on organization "IKNL"
      + role: view (organization) on organization "IKNL"
      + run: view (collaboration) on collaboration "Trial", organization "IKNL"
      + study: view (organization) on organization "IKNL"
      + task: view (collaboration) on collaboration "Trial", organization "IKNL"
      + task: create (collaboration) on collaboration "Trial", organization "IKNL"
      + task: delete (organization) on organization "IKNL"
      + user: view (organization) on organization "IKNL"
      + user: edit (own) their own
      + user: delete (own) their own
      because their roles + "Researcher"
      because collaboration "Trial": members + "IKNL"

1 object(s) in the database are not in the config and are left alone (--show-unmanaged lists them).
`);
    assert.match(renderPlanText(plan, { color: false, showUnmanaged: true }), /Not in the config, left alone:\n {2}\? organization "root" \(the server's own, never pruned\)\n$/);
    assert.match(renderPlanText(plan, { color: true, showUnmanaged: false }), /\x1b\[/);
  });

  it('says so when nothing changes', () => {
    const plan = assessedPlan({ ...desired, organizations: [], collaborations: [], nodes: [], users: [] }, freshState(), { engine: 'sqlite', display: 'sqlite:///f.sqlite', initialize: false });
    assert.equal(renderPlanText(plan, { color: false, showUnmanaged: false }), 'No changes. The database sqlite:///f.sqlite (vantage6 4.13 to 4.15) matches the config.\n');
  });
});
