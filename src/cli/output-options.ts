import type { Command } from 'commander';

/** What every printing command accepts, so that the same option means the same everywhere. */
export interface OutputFlags {
  /** false under `--no-color`. */
  readonly color: boolean;
  /** `--json`, on the commands that have a JSON form: their result (or their error) as JSON on stdout. */
  readonly json?: boolean;
}

/**
 * `--no-color` on every command that prints (plain text also under NO_COLOR
 * and whenever output is not a terminal), and `--json` with what it prints
 * where a command has a JSON form.
 */
export function addOutputOptions(command: Command, json: string | null): Command {
  command.option('--no-color', 'plain output (also under NO_COLOR, or when output is not a terminal)');
  return json === null ? command : command.option('--json', json);
}
