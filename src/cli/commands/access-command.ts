import { desiredAccessModel } from '../../access/access-model.js';
import { accessCounts, parseQuestion, userAccess, userReport, whoCan } from '../../access/access-report.js';
import { FederationAccess } from '../../access/user-access.js';
import { chooseBackend, openBackend } from '../../backends/open-backend.js';
import { withComponents } from '../../components/with-components.js';
import type { RuleKey } from '../../catalog/rule-catalog.js';
import { storeCatalog, storeReleaseFor, storeRuleKey, type StoreRuleKey } from '../../catalog/store-catalog.js';
import { usesKeycloak } from '../../catalog/vantage6-versions.js';
import { describeServer } from '../../catalog/server-profile.js';
import type { Release } from '../../catalog/vantage6-versions.js';
import { loadConfig } from '../../config/load-config.js';
import { FedctlError } from '../../errors.js';
import { renderAccessSummary, renderHolders, renderUserReport } from '../../render/render-access-report.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import { writeJsonWithList } from '../json-output.js';
import { checkConfig } from '../load-desired.js';
import type { OutputFlags } from '../output-options.js';
import { storesToRead } from '../store-options.js';

export interface AccessFlags extends DatabaseFlags, OutputFlags {
  /** `--user`, repeatable: what these users can do. */
  readonly user: string[];
  /** `--who-can RESOURCE:OPERATION`. */
  readonly whoCan?: string;
  /** `--on NAME`: only who can do it on this organization or collaboration. */
  readonly on?: string;
  /** `--vantage6-version`: the release whose built-in roles a config's users hold, over the config's `vantage6:`. */
  readonly vantage6Version?: Release;
  /** `--store URL`, repeatable, without a config: also the roles and users of these linked stores, read as fedctl's account. */
  readonly store: string[];
}

/** The federation access is computed on, its rule catalogue, and how to name it. */
interface AccessSource {
  readonly access: FederationAccess;
  readonly catalogue: readonly RuleKey[];
  /** The store rules of the store release the server links to. */
  readonly storeRules: readonly StoreRuleKey[];
  readonly source: string;
}

const storeRulesFor = (keycloak: boolean): StoreRuleKey[] => storeCatalog(storeReleaseFor(keycloak)).rules.map((r) => storeRuleKey(r.resource, r.operation));

/** A config, offline: its users with the built-in roles of the release it is checked against. */
async function fromConfig(paths: readonly string[], flags: AccessFlags, io: CliIo): Promise<AccessSource> {
  const { desired, server } = checkConfig(await loadConfig(paths), io, { quiet: flags.json ?? false, version: flags.vantage6Version });
  return {
    access: new FederationAccess(desiredAccessModel(desired, server)),
    catalogue: server.rules,
    storeRules: storeRulesFor(server.keycloak),
    source: `the config (${describeServer(server)})`,
  };
}

/** What a database or server holds now. */
async function fromServer(flags: AccessFlags, io: CliIo): Promise<AccessSource> {
  const backend = await openBackend(chooseBackend(flags, io.env, io.cwd), io.env);
  const read = await backend.read({ lockTimeoutMs: flags.lockTimeout * 1000, forDeletes: false });
  if (read.initialize) throw new FedctlError('DATABASE_MISSING', `${backend.display} has no vantage6 database`, 'point --database at the server\'s database, or give a config');
  // On vantage6 5 a user disabled in Keycloak can do nothing: read there when fedctl's account may; and the stores asked for.
  const components = await withComponents(backend, { ...storesToRead(flags.store, read.live), keptUsers: null }, io.env, (line) => io.stderr.write(`warning: ${line}\n`));
  const { live } = await components.addTo(read);
  return { access: new FederationAccess(live), catalogue: live.rules.map((r) => r.key), storeRules: storeRulesFor(usesKeycloak(live.server.versions.to)), source: backend.display };
}

/** `fedctl access`: what users can do, or who can do something, in a config or on a server. */
export async function accessCommand(paths: readonly string[], flags: AccessFlags, io: CliIo): Promise<number> {
  if (flags.on !== undefined && flags.whoCan === undefined) {
    throw new FedctlError('ACCESS_QUERY_INVALID', '--on narrows --who-can', 'add --who-can RESOURCE:OPERATION, such as --who-can task:create');
  }
  if (flags.whoCan !== undefined && flags.user.length > 0) {
    throw new FedctlError('ACCESS_QUERY_INVALID', '--user and --who-can ask different questions', 'give one of them');
  }
  if (paths.length > 0 && flags.store.length > 0) {
    throw new FedctlError('ACCESS_QUERY_INVALID', '--store reads a server\'s algorithm store; a config says its stores itself', 'list the store under algorithm_stores: with its roles: and users:, or leave out the config');
  }
  const { access, catalogue, storeRules, source } = paths.length > 0 ? await fromConfig(paths, flags, io) : await fromServer(flags, io);
  const color = useColor(io.stdout, io.env, flags.color);
  if (flags.whoCan !== undefined) {
    const question = parseQuestion(flags.whoCan, catalogue, storeRules);
    const on = flags.on ?? null;
    const holders = whoCan(access, question, on);
    if (flags.json) await writeJsonWithList(io.stdout, { formatVersion: 1, source, resource: question.resource, operation: question.operation.toLowerCase(), on }, 'users', holders);
    else io.stdout.write(renderHolders(question, on, holders, color));
    return EXIT_OK;
  }
  if (flags.user.length > 0) {
    const reports = flags.user.map((username) => userReport(access, username));
    if (flags.json) await writeJsonWithList(io.stdout, { formatVersion: 1, source }, 'users', reports);
    else io.stdout.write(reports.map((report) => renderUserReport(report, color)).join('\n'));
    return EXIT_OK;
  }
  const summaries = access.usernames().map((username) => accessCounts(userAccess(access, username)));
  if (flags.json) await writeJsonWithList(io.stdout, { formatVersion: 1, source }, 'users', summaries);
  else io.stdout.write(renderAccessSummary(summaries, source, color));
  return EXIT_OK;
}
