import { formatDiagnostic, hasErrors } from '../config/diagnostic.js';
import { loadConfig } from '../config/load-config.js';
import { validateConfig } from '../config/validate-config.js';
import { FedctlError } from '../errors.js';
import type { DesiredState } from '../federation.js';
import type { CliIo } from './io.js';

/**
 * Load and validate the config; diagnostics go to stderr (unless `quiet`:
 * under --json they travel in the error); an invalid config is an error.
 */
export async function loadDesiredState(paths: readonly string[], io: CliIo, options: { quiet: boolean }): Promise<DesiredState> {
  const loaded = await loadConfig(paths);
  const result = validateConfig(loaded, io.env);
  if (!options.quiet) for (const diagnostic of result.diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  if (!result.desired || hasErrors(result.diagnostics)) {
    const count = result.diagnostics.filter((d) => d.severity === 'error').length;
    throw new FedctlError('CONFIG_INVALID', `the config has ${count} error${count === 1 ? '' : 's'}; nothing was changed`, undefined,
      { diagnostics: result.diagnostics });
  }
  return result.desired;
}
