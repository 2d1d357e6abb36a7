import { describeServer } from '../../catalog/server-profile.js';
import { describeRange, type Release } from '../../catalog/vantage6-versions.js';
import { loadConfig } from '../../config/load-config.js';
import { isFedctlError } from '../../errors.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { diagnosticJson } from '../../diagnostic.js';
import { checkConfig } from '../load-desired.js';
import type { OutputFlags } from '../output-options.js';

export interface ValidateFlags extends OutputFlags {
  /** `--vantage6-version`: check rules and studies against this release, over the config's `vantage6:`. */
  readonly vantage6Version?: Release;
}

/** `fedctl validate`: schema, references and a release's rule catalogue, no database. */
export async function validateCommand(paths: readonly string[], flags: ValidateFlags, io: CliIo): Promise<number> {
  const quiet = flags.json ?? false;
  let result;
  try {
    result = checkConfig(await loadConfig(paths), io, { quiet, version: flags.vantage6Version });
  } catch (error) {
    // Under --json the error, with every diagnostic, is printed as JSON where errors are.
    if (quiet || !isFedctlError(error) || error.code !== 'CONFIG_INVALID') throw error;
    const count = error.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    io.stderr.write(`${count} error${count === 1 ? '' : 's'}.\n`);
    return EXIT_ERROR;
  }
  const d = result.desired;
  const counts = {
    organizations: d.organizations.length, collaborations: d.collaborations.length, nodes: d.nodes.length,
    studies: d.studies.length, roles: d.roles.length, users: d.users.length, algorithmStores: d.algorithmStores.length,
  };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({
      formatVersion: 1, valid: true, vantage6: describeRange(result.server.versions), counts, diagnostics: result.diagnostics.map(diagnosticJson),
    }, null, 2)}\n`);
    return EXIT_OK;
  }
  io.stdout.write(`The config is valid for ${describeServer(result.server)}: ${counts.organizations} organizations, ${counts.collaborations} collaborations, `
    + `${counts.nodes} nodes, ${counts.studies} studies, ${counts.roles} roles, ${counts.users} users`
    + `${counts.algorithmStores > 0 ? `, ${counts.algorithmStores} algorithm stores` : ''}.\n`);
  return EXIT_OK;
}
