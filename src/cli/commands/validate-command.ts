import { formatDiagnostic, hasErrors } from '../../config/diagnostic.js';
import { loadConfig } from '../../config/load-config.js';
import { validateConfig } from '../../config/validate-config.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** `fedctl validate`: schema and references, no database. */
export async function validateCommand(paths: readonly string[], io: CliIo): Promise<number> {
  const result = validateConfig(await loadConfig(paths), io.env);
  for (const diagnostic of result.diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  if (hasErrors(result.diagnostics) || !result.desired) {
    const count = result.diagnostics.filter((d) => d.severity === 'error').length;
    io.stderr.write(`${count} error${count === 1 ? '' : 's'}.\n`);
    return EXIT_ERROR;
  }
  const d = result.desired;
  io.stdout.write(`The config is valid: ${d.organizations.length} organizations, ${d.collaborations.length} collaborations, `
    + `${d.nodes.length} nodes, ${d.studies.length} studies, ${d.roles.length} roles, ${d.users.length} users.\n`);
  return EXIT_OK;
}
