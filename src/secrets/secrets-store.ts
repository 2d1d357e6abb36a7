import type { PendingKeys } from './pending-keys.js';

export interface NodeSecretEntry {
  readonly organization: string;
  readonly collaboration: string;
  readonly api_key: string;
  readonly created_at: string;
}

export interface UserSecretEntry {
  readonly password: string;
  readonly created_at: string;
}

/** The secrets file: node API keys by node name, generated passwords by username. */
export interface SecretsContent {
  readonly nodes: Readonly<Record<string, NodeSecretEntry>>;
  readonly users: Readonly<Record<string, UserSecretEntry>>;
}

/** What an apply made and hands to the secrets stage before its commit. */
export interface MadeSecrets {
  /** Keys of new and rotated nodes by node name, generated passwords by username. */
  readonly content: SecretsContent;
  /** Whether each collaboration is encrypted once the apply commits: a node's configuration must say the same. */
  readonly collaborationEncrypted: Readonly<Record<string, boolean>>;
  /** The database, as its display string (no password), for the records. */
  readonly database: string;
  /** vantage6 5: nodes log in through Keycloak, and their configuration files are HQ's Helm values. */
  readonly keycloak: boolean;
  /** The server's ids of its users by username, as the apply leaves them: node files name allowed users by id. */
  readonly userIds: Readonly<Record<string, number>>;
}

/**
 * Where apply keeps the secrets it made. `save` runs after every row is
 * written and before COMMIT, durably, so that no key is ever lost; the
 * function it returns puts the store back as it was, for a commit the
 * database refused.
 */
export interface SecretsStore {
  /** For messages: the file or folder. */
  readonly location: string;
  /**
   * Nodes whose keys a server is making (through its API): noted before the
   * call, cleared when `save` records them, so that a key lost to a kill
   * between the two is named by the next plan.
   */
  readonly pending: PendingKeys;
  /** Per node, the digest of the policies its file was last written with (`nodePoliciesDigest`); null where no node files are written. */
  writtenPolicies(): Promise<ReadonlyMap<string, string> | null>;
  /** Before any work: fail when the store cannot be read back or written, or a recipient is invalid. */
  check(): Promise<void>;
  save(made: MadeSecrets): Promise<() => Promise<void>>;
  /** One line for the user about what `save` wrote. */
  describe(made: MadeSecrets): string;
}
