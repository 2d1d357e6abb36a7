import { describeServer } from '../../catalog/server-profile.js';
import type { Minor } from '../../catalog/vantage6-versions.js';
import { loadConfig } from '../../config/load-config.js';
import { isFedctlError } from '../../errors.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { checkConfig } from '../load-desired.js';

export interface ValidateFlags {
  /** `--vantage6-version`: check rules and studies against this release, over the config's `vantage6:`. */
  readonly vantage6Version?: Minor;
}

/** `fedctl validate`: schema, references and a release's rule catalogue, no database. */
export async function validateCommand(paths: readonly string[], flags: ValidateFlags, io: CliIo): Promise<number> {
  let result;
  try {
    result = checkConfig(await loadConfig(paths), io, { quiet: false, version: flags.vantage6Version });
  } catch (error) {
    if (!isFedctlError(error) || error.code !== 'CONFIG_INVALID') throw error;
    const count = error.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    io.stderr.write(`${count} error${count === 1 ? '' : 's'}.\n`);
    return EXIT_ERROR;
  }
  const d = result.desired;
  io.stdout.write(`The config is valid for ${describeServer(result.server)}: ${d.organizations.length} organizations, ${d.collaborations.length} collaborations, `
    + `${d.nodes.length} nodes, ${d.studies.length} studies, ${d.roles.length} roles, ${d.users.length} users.\n`);
  return EXIT_OK;
}
