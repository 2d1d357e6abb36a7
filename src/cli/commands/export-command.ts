import { writeFile } from 'node:fs/promises';
import { describeRange } from '../../catalog/vantage6-versions.js';
import { describeApply } from '../../history/apply-history.js';
import { stringify } from 'yaml';
import { chooseBackend, openBackend } from '../../backends/open-backend.js';
import { FedctlError, messageOf } from '../../errors.js';
import { exportConfig } from '../../export/export-config.js';
import { exportForFive } from '../../export/export-for-five.js';
import { commentedYaml } from '../../export/commented-yaml.js';
import { describeAdaptedEntity } from '../../adapt/adapt-to-five.js';
import { nodePoliciesByKey } from '../../adapt/adapt-desired.js';
import { formatPath } from '../../diagnostic.js';
import { loadConfig } from '../../config/load-config.js';
import type { NodePolicies } from '../../federation.js';
import { liveProfile, type LiveState } from '../../state/live-state.js';
import { checkConfig } from '../load-desired.js';
import { withComponents } from '../../components/with-components.js';
import type { DatabaseFlags } from '../database-options.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { OutputFlags } from '../output-options.js';
import { storesToRead, storeUrlMap } from '../store-options.js';

export interface ExportFlags extends DatabaseFlags, OutputFlags {
  readonly out?: string;
  /** `--store URL`, repeatable: also the roles, users and policies of these linked stores, read as fedctl's account. */
  readonly store: string[];
  /** `--for 5.0`: a config for vantage6 5 from a 4.x server, every adaptation said at its line. */
  readonly for?: '5.0';
  /** `--store-url OLD=NEW`, repeatable: the 5.x store that takes a 4.x store's place. */
  readonly storeUrl: string[];
  /** `--node-policies-from CONFIG`, repeatable: the 4.x config whose nodes' policies cross with them. */
  readonly nodePoliciesFrom: string[];
}

/** The nodes' own policies of a 4.x config (checked against the server it was read from), by `nodeKey`. */
async function nodePoliciesOf(paths: readonly string[], live: LiveState, io: CliIo): Promise<Map<string, NodePolicies>> {
  return nodePoliciesByKey(checkConfig(await loadConfig(paths), io, { quiet: false, server: liveProfile(live) }).desired);
}

/** `fedctl export`: the live federation as a config, to adopt an existing server. */
export async function exportCommand(flags: ExportFlags, io: CliIo): Promise<number> {
  const backend = await openBackend(chooseBackend(flags, io.env, io.cwd), io.env);
  const target = { display: backend.display };
  const read = await backend.read({ lockTimeoutMs: flags.lockTimeout * 1000, forDeletes: false });
  if (read.initialize) throw new FedctlError('DATABASE_MISSING', `${target.display} has no vantage6 database`, 'point --database at the server\'s database');
  // On vantage6 5, users' names, e-mail and state come from Keycloak too, when fedctl's account may read them there.
  const components = await withComponents(backend, { ...storesToRead(flags.store, read.live), keptUsers: null }, io.env,
    (line) => io.stderr.write(`warning: ${line}\n`));
  const { live, lastApply } = await components.addTo(read);
  const storeUrls = storeUrlMap(flags.storeUrl);
  if (flags.for === undefined && (storeUrls.size > 0 || flags.nodePoliciesFrom.length > 0)) {
    throw new FedctlError('CONFIG_INVALID', '--store-url and --node-policies-from are for --for 5.0 only', 'add --for 5.0, or leave them out');
  }
  const nodePolicies = flags.nodePoliciesFrom.length === 0 ? undefined : await nodePoliciesOf(flags.nodePoliciesFrom, live, io);
  const result = flags.for === undefined ? { ...exportConfig(live), adaptations: [] } : exportForFive(live, { storeUrls, ...(nodePolicies === undefined ? {} : { nodePolicies }) });
  const version = live.server.versions;
  const exportedAt = new Date().toISOString();
  const adapted = flags.for === undefined ? '' : `, adapted for vantage6 ${flags.for}: ${result.adaptations.length} adaptation(s), each said at its line ("fedctl:")`;
  const header = [
    `Exported by fedctl from ${target.display} (vantage6 ${describeRange(version)}) on ${exportedAt}${adapted}.`,
    'Built-in roles and the server\'s administrator are the server\'s own and left out, as is fedctl\'s account; no secrets are exported.',
    ...(lastApply ? [`Last apply by fedctl: ${describeApply(lastApply)}.`] : []),
    ...result.skipped.map((skip) => `Left out: ${skip.what}: ${skip.reason}.`),
    ...result.adaptations.filter((a) => a.path === null).map((a) => `fedctl: ${describeAdaptedEntity(a.at)}: ${a.note}`),
  ];
  const comments = result.adaptations.flatMap((a) => (a.path === null ? [] : [{ path: a.path, text: `fedctl: ${a.note}` }]));
  const text = flags.json
    ? `${JSON.stringify({
      formatVersion: 1, database: target.display, vantage6: describeRange(version), exportedAt,
      lastApply: lastApply === null ? null : describeApply(lastApply), leftOut: result.skipped,
      ...(flags.for === undefined ? {} : { adaptedFor: flags.for, adaptations: result.adaptations.map((a) => ({ entity: a.at, path: a.path === null ? null : formatPath(a.path), note: a.note })) }),
      config: result.config,
    }, null, 2)}\n`
    : flags.for === undefined
      ? `${header.map((line) => `# ${line}`).join('\n')}\n${stringify(result.config, { lineWidth: 0 })}`
      : commentedYaml(result.config, header, comments);
  if (flags.out) {
    try {
      await writeFile(flags.out, text);
    } catch (error) {
      throw new FedctlError('CONFIG_UNREADABLE', `cannot write ${flags.out}: ${messageOf(error)}`);
    }
    io.stderr.write(`Exported the federation of ${target.display} to ${flags.out}.\n`);
  } else {
    io.stdout.write(text);
  }
  for (const skip of result.skipped) io.stderr.write(`warning: left out ${skip.what}: ${skip.reason}\n`);
  if (flags.for !== undefined && !flags.json) {
    io.stderr.write(`Adapted for vantage6 ${flags.for} (${result.adaptations.length}):\n${result.adaptations.map((a) => `  ${describeAdaptedEntity(a.at)}: ${a.note}\n`).join('')}`);
  }
  return EXIT_OK;
}
