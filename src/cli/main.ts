import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DATABASE_RELEASES, HQ_MINOR, NEWEST_MINOR, NEWEST_RELEASE, formatMinor, parseRelease, parseVersion, type DatabaseRelease, type Release,
} from '../catalog/vantage6-versions.js';
import { FEDCTL_VERSION } from '../fedctl-version.js';
import { isFedctlError, messageOf, type FedctlError } from '../errors.js';
import { DEFAULT_BCRYPT_COST } from '../apply/bcrypt-cost.js';
import { addDatabaseOptions, type DatabaseFlags } from './database-options.js';
import { diagnosticJson } from '../diagnostic.js';
import { addOutputOptions, type OutputFlags } from './output-options.js';
import { addPlanOptions } from './plan-flags.js';
import { EXIT_ERROR, EXIT_INTERRUPTED } from './exit-codes.js';
import type { CliIo } from './io.js';

/** `--store URL` of the commands that read a server without a config (export, access). */
const STORE_OPTION_HELP = 'also the roles, users and policies of this linked algorithm store, read as fedctl\'s account; repeatable';

function cost(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 4 || parsed > 31) throw new Error(`bcrypt cost must be an integer from 4 to 31, not ${value}`);
  return parsed;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`not a positive whole number: ${value}`);
  return parsed;
}

function vantage6Version(value: string): Release {
  const release = parseRelease(value);
  if (release === null) throw new InvalidArgumentError(`fedctl knows vantage6 ${formatMinor(0)} to ${formatMinor(NEWEST_MINOR)} and ${formatMinor(HQ_MINOR)}, not ${value}`);
  return release;
}

function databaseRelease(value: string): DatabaseRelease {
  const release = DATABASE_RELEASES.find((r) => parseVersion(r) === parseVersion(value));
  if (release === undefined) {
    const why = parseVersion(value) === HQ_MINOR ? ' (vantage6 5 keeps users and nodes in Keycloak: fedctl reaches HQ through its API, --server)' : '';
    throw new InvalidArgumentError(`fedctl can create the databases of vantage6 ${DATABASE_RELEASES.join(', ')}, not ${value}${why}`);
  }
  return release;
}

/** The command line: every command and option, with help; the docs test parses every documented command with it. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('fedctl')
    .description('Manage a vantage6 federation as code: validate, plan and apply a YAML description against the server database.')
    .version(FEDCTL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  addOutputOptions(program.command('validate')
    .description('check config files against the schema and their references; never opens a database')
    .argument('<config...>', 'YAML files, or directories of *.yaml files merged'), 'the outcome as JSON on stdout, with every problem found')
    .addOption(new Option('--vantage6-version <x.y[.z]>', 'check rules, studies and usernames against this vantage6 release (default: the config\'s vantage6:, else the newest)')
      .argParser(vantage6Version))
    .action(async (paths: string[], flags) => {
      const { validateCommand } = await import('./commands/validate-command.js');
      setExit(await validateCommand(paths, flags, io));
    });

  addOutputOptions(program.command('store-policies')
    .description('write what each algorithm store\'s operator deploys for the policies the config gives it (4.x: its configuration\'s policies; vantage6 5: Helm values store.policies); offline')
    .argument('<config...>', 'YAML files, or directories of *.yaml files merged')
    .option('-o, --out <dir>', 'write one file per store into this folder (default: print them)'), null)
    .action(async (paths: string[], flags: { out?: string }) => {
      const { storePoliciesCommand } = await import('./commands/store-policies-command.js');
      setExit(await storePoliciesCommand(paths, flags, io));
    });

  addOutputOptions(addDatabaseOptions(program.command('init')
    .description('create a vantage6 release\'s schema, rule catalogue and built-in roles in an empty database, as its server does at first start')
    .addOption(new Option('--vantage6-version <x.y>', `the release to create: ${DATABASE_RELEASES.join(', ')}`)
      .default(NEWEST_RELEASE).argParser(databaseRelease))), 'what was done, as JSON on stdout')
    .action(async (flags: DatabaseFlags & OutputFlags & { vantage6Version: DatabaseRelease }) => {
      const { initCommand } = await import('./commands/init-command.js');
      setExit(await initCommand(flags, io));
    });

  addPlanOptions(addDatabaseOptions(program.command('plan')
    .description('show what apply would change; read-only, never creates or writes anything but the -o file')
    .argument('<config...>', 'YAML files, or directories of *.yaml files merged')
    .option('-o, --out <file>', 'save the plan, with a fingerprint of the database, for fedctl apply FILE')
    .option('--compare-with <url>', 'the server the federation moves from (database or API URL): each user\'s access there against here after the plan')))
    .action(async (paths: string[], flags) => {
      const { planCommand } = await import('./commands/plan-command.js');
      setExit(await planCommand(paths, flags, io));
    });

  addPlanOptions(addDatabaseOptions(program.command('apply')
    .description('show the plan, ask for confirmation, and make the database match in one transaction')
    .argument('<config...>', 'YAML files or directories, or one plan saved with fedctl plan -o FILE.json')
    .option('--auto-approve', 'apply without asking (required without a terminal)')
    .option('--no-history', 'do not record this apply in the database\'s history table')
    .addOption(new Option('--bcrypt-cost <n>', `bcrypt cost of the keys and passwords fedctl hashes into a database (default: ${DEFAULT_BCRYPT_COST}; through the API the server hashes them)`).argParser(cost))))
    .action(async (paths: string[], flags) => {
      const { applyCommand } = await import('./commands/apply-command.js');
      setExit(await applyCommand(paths, flags, io));
    });

  addOutputOptions(addDatabaseOptions(program.command('export')
    .description('write the live federation as config YAML (no secrets), to adopt an existing server')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .addOption(new Option('--store <url>', STORE_OPTION_HELP).default([]).argParser(collect))
    .addOption(new Option('--for <release>', 'a config for another line: 5.0, from a 4.x server (each adaptation said at its line)').choices(['5.0']))
    .addOption(new Option('--store-url <old=new>', 'with --for 5.0: the 5.x store that takes a 4.x store\'s place; repeatable').default([]).argParser(collect))
    .addOption(new Option('--node-policies-from <config>', 'with --for 5.0: the 4.x config whose nodes\' own policies cross with them (they live in the nodes\' files, not on the server); repeatable').default([]).argParser(collect))), 'the config as JSON, with where it came from, what was left out and what was adapted')
    .action(async (flags) => {
      const { exportCommand } = await import('./commands/export-command.js');
      setExit(await exportCommand(flags, io));
    });

  addOutputOptions(addDatabaseOptions(program.command('access')
    .description('who can do what: one user\'s permissions, who can do something, or every user at a glance; offline on a config, or on a server')
    .argument('[config...]', 'YAML files or directories: compute access from the config; without, from the database or server')
    .addOption(new Option('--user <username>', 'what this user can do, and what the server lists to them; repeatable').default([]).argParser(collect))
    .option('--who-can <resource:operation>', 'who can do this, e.g. task:create; at the algorithm stores e.g. store.review:edit (reviewing)')
    .option('--on <name>', 'with --who-can: only who can do it on this organization or collaboration; for a store rule, at this store or the stores linked to this collaboration')
    .addOption(new Option('--vantage6-version <x.y[.z]>', 'with a config: the release whose built-in roles its users hold (default: the config\'s vantage6:, else the newest)')
      .argParser(vantage6Version))
    .addOption(new Option('--store <url>', `without a config: ${STORE_OPTION_HELP}`).default([]).argParser(collect))
    .addHelpText('after', `
Examples:
  fedctl access examples/federation.yaml --user anna.devries
  fedctl access --who-can task:create --on "Colorectal Cancer Survival" --database postgresql://…/vantage6
  fedctl access federation.yaml stores.yaml --who-can store.review:edit --on "Colorectal Cancer Survival"
  fedctl access --server https://v6.example.org/api --json
  fedctl access --server https://v6.example.org/api --store https://store.example.org/api --who-can store.review:edit`)), 'the answer as JSON (with the names each user gets from the server\'s lists)')
    .action(async (paths: string[], flags) => {
      const { accessCommand } = await import('./commands/access-command.js');
      setExit(await accessCommand(paths, flags, io));
    });

  const history = program.command('history').description('the applies fedctl recorded in the database: when, who, from which commit');
  addOutputOptions(addDatabaseOptions(history.command('list', { isDefault: true })
    .description('the applies, newest first, one line each')
    .addOption(new Option('--limit <n>', 'how many').default(20).argParser(positiveInteger))), 'the records as JSON')
    .action(async (flags: DatabaseFlags & OutputFlags & { limit: number }) => {
      const { historyListCommand } = await import('./commands/history-command.js');
      setExit(await historyListCommand(flags, io));
    });
  addOutputOptions(addDatabaseOptions(history.command('show')
    .description('one recorded apply in full: where it came from, and its plan as fedctl plan shows it')
    .argument('<id>', 'the number history list shows', positiveInteger)), 'the record as JSON')
    .action(async (id: number, flags: DatabaseFlags & OutputFlags) => {
      const { historyShowCommand } = await import('./commands/history-command.js');
      setExit(await historyShowCommand(id, flags, io));
    });

  const secrets = program.command('secrets').description('read the encrypted secrets that apply wrote for recipients');
  addOutputOptions(secrets.command('show')
    .description('decrypt the records with your age identity and list the current key of every node and every generated password')
    .argument('[dir]', 'the secrets folder apply wrote (--secrets-dir)', 'fedctl-secrets')
    .requiredOption('-i, --identity <file>', 'your age identity file (age-keygen -o FILE)'), 'the keys and passwords as JSON')
    .action(async (dir: string, flags: OutputFlags & { identity: string }) => {
      const { secretsShowCommand } = await import('./commands/secrets-command.js');
      setExit(await secretsShowCommand(path.resolve(io.cwd, dir), { ...flags, identity: path.resolve(io.cwd, flags.identity) }, io));
    });

  return program;
}

/** An error as --json prints it: its code, message, hint, and the located config problems. */
function errorJson(error: FedctlError): Record<string, unknown> {
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    diagnostics: error.diagnostics.map(diagnosticJson),
  };
}

/** Run fedctl with `argv` (without node and script); returns the exit code. The only place errors are printed. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => { exitCode = code; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_ERROR;
    if (isFedctlError(error)) {
      if (argv.includes('--json')) {
        io.stdout.write(`${JSON.stringify({ formatVersion: 1, error: errorJson(error) }, null, 2)}\n`);
      } else {
        io.stderr.write(`Error: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
      }
      return error.code === 'INTERRUPTED' ? EXIT_INTERRUPTED : EXIT_ERROR;
    }
    io.stderr.write(`Error: ${messageOf(error)}\n  this is a bug in fedctl; please report it with the command you ran\n`);
    if (io.env.FEDCTL_DEBUG) io.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return EXIT_ERROR;
  }
}
