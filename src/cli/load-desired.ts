import { formatDiagnostic, hasErrors } from '../diagnostic.js';
import type { LoadedConfig } from '../config/load-config.js';
import { validateConfig, type ValidationOptions, type ValidationResult } from '../config/validate-config.js';
import { FedctlError } from '../errors.js';
import type { DesiredState } from '../federation.js';
import type { CliIo } from './io.js';

/**
 * Validate a loaded config against a server's catalogue; diagnostics go to
 * stderr (under --json, `quiet`, the errors travel in the error on stdout and
 * only the warnings of a valid config go to stderr); an invalid config is an
 * error.
 */
export function checkConfig(loaded: LoadedConfig, io: CliIo, options: ValidationOptions & { quiet: boolean }): ValidationResult & { desired: DesiredState } {
  const result = validateConfig(loaded, io.env, options);
  const valid = result.desired !== null && !hasErrors(result.diagnostics);
  if (!options.quiet || valid) for (const diagnostic of result.diagnostics) io.stderr.write(`${formatDiagnostic(diagnostic)}\n`);
  if (!result.desired || hasErrors(result.diagnostics)) {
    const count = result.diagnostics.filter((d) => d.severity === 'error').length;
    throw new FedctlError('CONFIG_INVALID', `the config has ${count} error${count === 1 ? '' : 's'}; nothing was changed`, undefined,
      { diagnostics: result.diagnostics });
  }
  return { ...result, desired: result.desired };
}
