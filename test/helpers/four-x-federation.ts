/**
 * A 4.x federation as admins keep them, for moving to vantage6 5: names of
 * several scripts and awkward characters, a custom role without organization
 * held by users of two organizations, a user holding another organization's
 * role, an Organization Admin (whose built-in role lost task rules in 4.14),
 * a user's own rule 5.0 does not have (`port`), a node named with spaces
 * and with policies of its own (one only 4.x's nodes read),
 * users with and without an e-mail address.
 */
export const FOUR_X_FEDERATION = `# a federation kept since 4.13
organizations:
  - name: "Zorg & Co! (4.x)"
  - name: 東京病院 4x
  - name: مستشفى 4x
roles:
  - name: Analyst 📊
    description: "Runs tasks wherever its holder's organization takes part"
    rules:
      - { resource: task, scope: collaboration, operation: [view, create] }
      - { resource: run, scope: collaboration, operation: view }
  - name: Port Watcher
    organization: 東京病院 4x
    rules:
      - { resource: port, scope: organization, operation: view }
      - { resource: node, scope: organization, operation: view }
users:
  - username: noor.4x
    organization: مستشفى 4x
    email: Noor+Move@Example.org
    roles: [Analyst 📊, Researcher]
  - username: kenji.4x
    organization: 東京病院 4x
    email: kenji@例え.テスト
    roles: [Analyst 📊, Port Watcher]
  - username: zoe.4x
    organization: "Zorg & Co! (4.x)"
    roles: [Organization Admin, { name: Port Watcher, organization: 東京病院 4x }]
    rules:
      - { resource: port, scope: global, operation: view }
      - { resource: event, scope: collaboration, operation: receive }
collaborations:
  - name: Move & Measure 4x
    members:
      - organization: "Zorg & Co! (4.x)"
        node:
          name: Zorg Move Node
          policies:                      # in the node's own file, not on the server
            allowed_algorithms: ['^harbor2\\.vantage6\\.ai/demo/.*$']
            allowed_users: [zoe.4x]
            allow_basics_algorithm: false
      - organization: 東京病院 4x
      - organization: مستشفى 4x
        node: false
`;
