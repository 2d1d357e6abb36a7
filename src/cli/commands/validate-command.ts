import { isFedctlError } from '../../errors.js';
import type { DesiredState } from '../../federation.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { loadDesiredState } from '../load-desired.js';

/** `fedctl validate`: schema and references, no database. */
export async function validateCommand(paths: readonly string[], io: CliIo): Promise<number> {
  let d: DesiredState;
  try {
    d = await loadDesiredState(paths, io, { quiet: false });
  } catch (error) {
    if (!isFedctlError(error) || error.code !== 'CONFIG_INVALID') throw error;
    const count = error.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    io.stderr.write(`${count} error${count === 1 ? '' : 's'}.\n`);
    return EXIT_ERROR;
  }
  io.stdout.write(`The config is valid: ${d.organizations.length} organizations, ${d.collaborations.length} collaborations, `
    + `${d.nodes.length} nodes, ${d.studies.length} studies, ${d.roles.length} roles, ${d.users.length} users.\n`);
  return EXIT_OK;
}
