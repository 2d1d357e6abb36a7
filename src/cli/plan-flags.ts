import { Option, type Command } from 'commander';
import { ENTITY_KINDS, type DesiredState, type EntityKind, type PruneSettings } from '../federation.js';
import { FedctlError } from '../errors.js';
import type { EntitySelector, PlanOptions } from '../plan/plan-options.js';
import type { DatabaseFlags } from './database-options.js';
import { addOutputOptions, type OutputFlags } from './output-options.js';
import type { SecretsFlags } from './secrets-options.js';
import { ownValue } from '../own-property.js';

export interface PlanFlags extends DatabaseFlags, OutputFlags, SecretsFlags {
  readonly detailedExitcode?: boolean;
  readonly showUnmanaged?: boolean;
  readonly showAccess?: boolean;
  readonly markdown?: boolean;
  readonly prune: string[];
  readonly allowDestroy?: boolean;
  readonly rotateNodeKey: string[];
  readonly resetPassword: string[];
  readonly target: string[];
  /** `--for 5.0`: the config is a 4.x federation's, planned for vantage6 5 as the move adapts it. */
  readonly for?: '5.0';
  /** `--store-url OLD=NEW`, repeatable: with `--for 5.0`, the 5.x store that takes a 4.x store's place. */
  readonly storeUrl: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const PLURALS: Readonly<Record<string, EntityKind>> = {
  organizations: 'organization', collaborations: 'collaboration', nodes: 'node', studies: 'study', roles: 'role', users: 'user',
  algorithm_stores: 'algorithm_store', identity_providers: 'identity_provider', store_roles: 'store_role', store_users: 'store_user',
};

function kindOf(word: string): EntityKind | undefined {
  return (ENTITY_KINDS as readonly string[]).includes(word) ? word as EntityKind : ownValue(PLURALS, word);
}

/** The options plan and apply share. */
export function addPlanOptions(command: Command): Command {
  return addOutputOptions(command, 'the plan as JSON on stdout (format: schemas/plan.schema.json); errors as JSON too')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
    .option('--show-unmanaged', 'list the objects in the database that the config does not mention')
    .option('--show-access', 'list every change of who can do what, not the first groups, users and targets')
    .option('--markdown', 'the plan as Markdown, for a pull-request comment')
    .addOption(new Option('--prune <kind>', 'delete objects of this kind that are not in the config (organizations, collaborations, nodes, studies, roles, users, algorithm_stores, identity_providers, store_roles, store_users or all); repeatable').default([]).argParser(collect))
    .option('--allow-destroy', 'allow a plan that deletes objects (without it such a plan fails)')
    .addOption(new Option('--rotate-node-key <node>', 'give a node a new API key: its name, or organization/collaboration; repeatable').default([]).argParser(collect))
    .addOption(new Option('--reset-password <username>', 'set a user\'s password anew, from the config or generated (an invited user: a new invitation); repeatable').default([]).argParser(collect))
    .addOption(new Option('--target <kind/name>', 'limit the plan to this entity and what it needs, e.g. user/anna; repeatable').default([]).argParser(collect))
    .addOption(new Option('--for <release>', 'plan a 4.x config for vantage6 5 (5.0), adapted as export --for 5.0 adapts a server; files that declare vantage6 5 say what differs on HQ (server:, secrets:)').choices(['5.0']))
    .addOption(new Option('--store-url <old=new>', 'with --for 5.0: the 5.x store that takes a 4.x store\'s place; repeatable').default([]).argParser(collect))
    .option('--secrets-file <file>', 'where new node API keys and generated passwords go, in plaintext, without recipients (default: fedctl-secrets.yaml beside the config)')
    .option('--secrets-dir <dir>', 'where they go encrypted, with recipients (default: fedctl-secrets/ beside the config)')
    // Plan takes them too: which node files are stale depends on whether apply writes them.
    .addOption(new Option('--recipient <age1...>', 'an admin\'s age public key to encrypt secrets to (also FEDCTL_AGE_RECIPIENTS); repeatable').default([]).argParser(collect));
}

/** Merge the flags with the config's own `prune:` into plan options. */
export function planOptionsFrom(flags: PlanFlags, desired: DesiredState): PlanOptions {
  const prune: Record<EntityKind, boolean> = { ...desired.prune } as PruneSettings & Record<EntityKind, boolean>;
  for (const word of flags.prune) {
    if (word === 'all') {
      for (const kind of ENTITY_KINDS) prune[kind] = true;
      continue;
    }
    const kind = kindOf(word);
    if (kind === undefined) {
      throw new FedctlError('CONFIG_INVALID', `--prune ${word}: unknown kind`, 'use organizations, collaborations, nodes, studies, roles, users, algorithm_stores, identity_providers, store_roles, store_users or all');
    }
    prune[kind] = true;
  }
  return {
    prune,
    rotateNodeKeys: flags.rotateNodeKey,
    resetPasswords: flags.resetPassword,
    targets: flags.target.length === 0 ? null : flags.target.map(parseTarget),
  };
}

function parseTarget(value: string): EntitySelector {
  const slash = value.indexOf('/');
  const kind = slash > 0 ? kindOf(value.slice(0, slash)) : undefined;
  if (kind === undefined || slash === value.length - 1) {
    throw new FedctlError('CONFIG_INVALID', `--target ${value}: expected KIND/NAME`, 'e.g. --target user/anna, --target collaboration/Trial');
  }
  return { kind, name: value.slice(slash + 1) };
}
