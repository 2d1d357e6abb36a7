import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { applyFederation } from '../../apply/apply-federation.js';
import { hashWorkerCount } from '../../apply/hash-pool.js';
import { DEFAULT_SECRETS_FILE_NAME, listConfigFiles } from '../../config/load-config.js';
import { openDatabase } from '../../db/open-database.js';
import { resolveDatabase } from '../../db/resolve-database.js';
import { FedctlError } from '../../errors.js';
import { planHasChanges } from '../../plan/plan.js';
import { renderPlanText } from '../../render/render-plan-text.js';
import type { PlanFlags } from './plan-command.js';
import { planAgainst } from './plan-command.js';
import { EXIT_OK } from '../exit-codes.js';
import { useColor, type CliIo } from '../io.js';
import { loadDesiredState } from '../load-desired.js';

export interface ApplyFlags extends PlanFlags {
  readonly autoApprove?: boolean;
  readonly secretsFile?: string;
  readonly bcryptCost: number;
}

/** Default secrets file: beside the config file, or inside the config directory. */
async function defaultSecretsFile(paths: readonly string[]): Promise<string> {
  const first = (await listConfigFiles(paths.slice(0, 1)))[0] ?? paths[0] ?? '.';
  return path.join(path.dirname(first), DEFAULT_SECRETS_FILE_NAME);
}

async function confirm(io: CliIo): Promise<boolean> {
  const prompt = createInterface({ input: io.stdin, output: io.stderr as NodeJS.WritableStream });
  try {
    const answer = await prompt.question("Apply these changes? Only 'yes' is accepted: ");
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
  }
}

/** `fedctl apply`: show the plan, ask, then make the database match in one transaction. */
export async function applyCommand(paths: readonly string[], flags: ApplyFlags, io: CliIo): Promise<number> {
  const desired = await loadDesiredState(paths, io);
  const { target } = resolveDatabase(flags, io.env, io.cwd);
  const secretsFile = flags.secretsFile ? path.resolve(io.cwd, flags.secretsFile) : await defaultSecretsFile(paths);
  const lockTimeoutMs = flags.lockTimeout * 1000;
  const color = useColor(io.stdout, io.env, flags.color);
  const plan = await planAgainst(target, desired, lockTimeoutMs);
  io.stdout.write(renderPlanText(plan, { color, showUnmanaged: flags.showUnmanaged ?? false }));
  if (!planHasChanges(plan)) return EXIT_OK;

  if (!flags.autoApprove) {
    if (!io.stdin.isTTY) {
      throw new FedctlError('NOT_INTERACTIVE', 'apply needs confirmation, but there is no terminal to ask',
        'review the plan and pass --auto-approve');
    }
    if (!(await confirm(io))) {
      io.stderr.write('Apply cancelled; nothing was changed.\n');
      return EXIT_OK;
    }
  }

  const progress = io.stderr.isTTY
    ? (done: number, total: number): void => {
      io.stderr.write(`\rHashing secrets (bcrypt cost ${flags.bcryptCost}, ${hashWorkerCount(total)} workers): ${done}/${total}${done === total ? '\n' : ''}`);
    }
    : undefined;
  const adapter = await openDatabase(target, { readonly: false, lockTimeoutMs });
  try {
    const result = await applyFederation(adapter, desired, plan, {
      secretsFile,
      bcryptCost: flags.bcryptCost,
      lockTimeoutMs,
      acceptChangedPlan: flags.autoApprove ?? false,
      env: io.env,
      onHashProgress: progress,
    });
    if (result.initialized) io.stdout.write(`Initialised ${target.display} with the vantage6 4.14 schema.\n`);
    const { add, change, destroy } = result.plan.summary;
    io.stdout.write(`Apply complete: ${add} added, ${change} changed, ${destroy} destroyed.\n`);
    if (result.secrets.nodes + result.secrets.users > 0) {
      io.stdout.write(`Wrote ${result.secrets.nodes} node API key(s) and ${result.secrets.users} generated password(s) to ${secretsFile}.\n`);
    }
    return EXIT_OK;
  } finally {
    await adapter.close();
  }
}

