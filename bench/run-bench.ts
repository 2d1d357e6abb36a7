/**
 * `npm run bench`: fedctl on synthetic federations of three sizes, on SQLite
 * and PostgreSQL. Prints one table per size and engine; --json for the
 * figures. Fails loudly when apply then plan is not empty.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { PlaintextSecretsStore } from '../src/secrets/secrets-file.js';
import { detectProvenance } from '../src/history/provenance.js';
import { fingerprintConfig } from '../src/plan/fingerprint.js';
import { applyFederation } from '../src/apply/apply-federation.js';
import { hashSecrets, hashWorkerCount } from '../src/apply/hash-pool.js';
import { loadConfig } from '../src/config/load-config.js';
import { validateConfig } from '../src/config/validate-config.js';
import type { DatabaseAdapter } from '../src/db/database-adapter.js';
import { parseDatabaseUrl, type DatabaseTarget, type Engine } from '../src/db/database-url.js';
import { initDatabase } from '../src/db/init-database.js';
import { openDatabase } from '../src/db/open-database.js';
import type { DesiredState } from '../src/federation.js';
import { computePlan } from '../src/plan/compute-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../src/plan/plan-options.js';
import { loadLiveState } from '../src/state/load-live-state.js';
import { createScratchPostgres } from '../test/helpers/scratch-postgres.js';
import { SIZES, changeOnePercent, generateFederation, type SizeName } from './generate-federation.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BIN = path.join(ROOT, 'bin', 'fedctl.js');
const RSS_REPORTER = path.join(ROOT, 'bench', 'rss-reporter.mjs');
const POSTGRES_ADMIN_URL = process.env.FEDCTL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'S,M,L' },
    engine: { type: 'string', default: 'sqlite,postgres' },
    'bcrypt-cost': { type: 'string' },
    seed: { type: 'string', default: '42' },
    json: { type: 'boolean', default: false },
  },
});

/** vantage6's cost at S; the large sizes hash thousands of keys, so they run cheaper unless told. */
const costFor = (size: SizeName): number => Number(args['bcrypt-cost'] ?? (size === 'S' ? 12 : 4));

interface Figures {
  size: SizeName;
  engine: Engine;
  configMB: number;
  validateMs: number;
  planEmptyMs: number;
  applyDbMs: number;
  applyBcryptMs: number;
  bcryptCost: number;
  bcryptWorkers: number;
  secretsHashed: number;
  planNoChangeMs: number;
  planNoChangePeakMB: number;
  planChangeMs: number;
  applyChangeMs: number;
  statementsPerPlan: number;
  statementsPerApply: number;
  statementsPerChangeApply: number;
}

/** The median of three runs of the built command: single process timings on a shared machine are noisy. */
function runFedctl(argv: string[], cwd: string): { ms: number; code: number; peakMB: number; stdout: string } {
  const runs = [runOnce(argv, cwd), runOnce(argv, cwd), runOnce(argv, cwd)].sort((a, b) => a.ms - b.ms);
  const median = runs[1] as ReturnType<typeof runOnce>;
  return { ...median, peakMB: Math.max(...runs.map((r) => r.peakMB)) };
}

/** Run the built command as a user does; returns wall time, exit code and peak memory. */
function runOnce(argv: string[], cwd: string): { ms: number; code: number; peakMB: number; stdout: string } {
  const rssFile = path.join(cwd, `rss-${process.hrtime.bigint()}`);
  const start = performance.now();
  const result = spawnSync(process.execPath, ['--import', RSS_REPORTER, BIN, ...argv], {
    cwd, encoding: 'utf8', env: { PATH: process.env.PATH, FEDCTL_BENCH_RSS_FILE: rssFile }, maxBuffer: 1 << 30,
  });
  const ms = performance.now() - start;
  const peakMB = Number(readFileSync(rssFile, 'utf8')) / 2 ** 20;
  return { ms, code: result.status ?? -1, peakMB, stdout: result.stdout + result.stderr };
}

async function desiredState(file: string): Promise<DesiredState> {
  const result = validateConfig(await loadConfig([file]), {});
  if (!result.desired) throw new Error(`generated config is invalid: ${JSON.stringify(result.diagnostics.slice(0, 3))}`);
  return result.desired;
}

async function createDatabase(engine: Engine, dir: string): Promise<{ url: string; target: DatabaseTarget; drop: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const url = `sqlite:///${path.join(dir, 'bench.sqlite')}`;
    return { url, target: parseDatabaseUrl(url, dir), drop: async () => undefined };
  }
  const scratch = await createScratchPostgres(POSTGRES_ADMIN_URL, 'fedctl_bench');
  return { url: scratch.url, target: parseDatabaseUrl(scratch.url, dir), drop: () => scratch.drop() };
}

/** Apply in-process, counting statements and splitting bcrypt time from database time. */
async function timedApply(adapter: DatabaseAdapter, desired: DesiredState, cost: number, dir: string, counter: { n: number }) {
  const { live, initialize } = await loadLiveState(adapter);
  const plan = computePlan(desired, live, { engine: adapter.engine, display: adapter.target.display, initialize }, DEFAULT_PLAN_OPTIONS);
  const start = performance.now();
  let hashedAt = start;
  let hashed = 0;
  counter.n = 0;
  await applyFederation(adapter, plan, () => plan, {
    secrets: new PlaintextSecretsStore(path.join(dir, 'fedctl-secrets.yaml')),
    record: { provenance: await detectProvenance(process.env, dir, []), configFingerprint: fingerprintConfig(desired) },
    bcryptCost: cost, lockTimeoutMs: 60_000, allowDestroy: false, env: {},
    onHashProgress: (done) => { hashedAt = performance.now(); hashed = done; },
  });
  const total = performance.now() - start;
  return { bcryptMs: hashedAt - start, dbMs: total - (hashedAt - start), statements: counter.n, hashed };
}

function mustBeUnchanged(run: { code: number; stdout: string }, what: string): void {
  if (run.code !== 0) {
    process.stderr.write(`\nFAILED: ${what}: plan after apply is not empty (exit ${run.code})\n${run.stdout.slice(0, 2000)}\n`);
    process.exit(1);
  }
}

async function bench(size: SizeName, engine: Engine): Promise<Figures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fedctl-bench-${size}-`));
  const config = generateFederation(size, Number(args.seed));
  const configFile = path.join(dir, 'federation.yaml');
  const changedFile = path.join(dir, 'changed.yaml');
  const text = stringify(config, { lineWidth: 0 });
  writeFileSync(configFile, text);
  writeFileSync(changedFile, stringify(changeOnePercent(config), { lineWidth: 0 }));
  const db = await createDatabase(engine, dir);
  const counter = { n: 0 };
  const adapter = await openDatabase(db.target, { readonly: false, onQuery: () => { counter.n++; } });
  try {
    await initDatabase(adapter, 60_000);
    const validate = runFedctl(['validate', configFile], dir);
    const planEmpty = runFedctl(['plan', configFile, '--database', db.url, '--detailed-exitcode'], dir);
    if (planEmpty.code !== 2) throw new Error(`plan against an empty database exited ${planEmpty.code}: ${planEmpty.stdout.slice(0, 500)}`);
    const cost = costFor(size);
    const desired = await desiredState(configFile);
    const applied = await timedApply(adapter, desired, cost, dir, counter);
    const planNoChange = runFedctl(['plan', configFile, '--database', db.url, '--detailed-exitcode'], dir);
    mustBeUnchanged(planNoChange, `${size}/${engine} apply from empty`);
    counter.n = 0;
    await loadLiveState(adapter);
    const statementsPerPlan = counter.n;

    const changed = await desiredState(changedFile);
    const planStart = performance.now();
    const { live } = await loadLiveState(adapter);
    computePlan(changed, live, { engine, display: db.target.display, initialize: false }, DEFAULT_PLAN_OPTIONS);
    const planChangeMs = performance.now() - planStart;
    const applyStart = performance.now();
    const change = await timedApply(adapter, changed, cost, dir, counter);
    const applyChangeMs = performance.now() - applyStart;
    mustBeUnchanged(runFedctl(['plan', changedFile, '--database', db.url, '--detailed-exitcode'], dir), `${size}/${engine} 1% change`);
    return {
      size, engine,
      configMB: text.length / 2 ** 20,
      validateMs: validate.ms,
      planEmptyMs: planEmpty.ms,
      applyDbMs: applied.dbMs,
      applyBcryptMs: applied.bcryptMs,
      bcryptCost: cost,
      bcryptWorkers: hashWorkerCount(applied.hashed),
      secretsHashed: applied.hashed,
      planNoChangeMs: planNoChange.ms,
      planNoChangePeakMB: planNoChange.peakMB,
      planChangeMs,
      applyChangeMs,
      statementsPerPlan,
      statementsPerApply: applied.statements,
      statementsPerChangeApply: change.statements,
    };
  } finally {
    await adapter.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Hashes per second with one worker and with all, at a cost where threads pay off. */
async function bcryptScaling(): Promise<{ cost: number; oneWorkerPerSec: number; allWorkersPerSec: number; workers: number; speedup: number }> {
  const cost = 10;
  const secrets = Array.from({ length: 96 }, (_, i) => `secret-${i}`);
  const rate = async (workers: number): Promise<number> => {
    const start = performance.now();
    await hashSecrets(secrets, cost, { workers });
    return secrets.length / ((performance.now() - start) / 1000);
  };
  const workers = hashWorkerCount(secrets.length);
  const one = await rate(1);
  const all = await rate(workers);
  return { cost, oneWorkerPerSec: one, allWorkersPerSec: all, workers, speedup: all / one };
}

const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

function table(f: Figures): string {
  const n = SIZES[f.size];
  const rows: [string, string][] = [
    ['config', `${n.organizations} orgs, ${n.users} users, ${n.collaborations} collabs, ~${n.nodes} nodes, ${n.roles} roles, ${n.studies} studies (${f.configMB.toFixed(1)} MB)`],
    ['validate (process, median of 3)', ms(f.validateMs)],
    ['plan, empty database (process, median of 3)', ms(f.planEmptyMs)],
    ['apply from empty: database', ms(f.applyDbMs)],
    ['apply from empty: bcrypt', `${ms(f.applyBcryptMs)} (${f.secretsHashed} secrets, cost ${f.bcryptCost}, ${f.bcryptWorkers} workers)`],
    ['plan, no changes (process, median of 3)', ms(f.planNoChangeMs)],
    ['peak memory, plan no changes', `${Math.round(f.planNoChangePeakMB)} MB`],
    ['plan, 1% change (in-process)', ms(f.planChangeMs)],
    ['apply, 1% change (in-process)', ms(f.applyChangeMs)],
    ['SQL statements per plan', String(f.statementsPerPlan)],
    ['SQL statements per apply (from empty / 1%)', `${f.statementsPerApply} / ${f.statementsPerChangeApply}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`${f.size} on ${f.engine}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sizes = (args.size as string).split(',').map((s) => s.trim().toUpperCase()) as SizeName[];
let engines = (args.engine as string).split(',').map((e) => e.trim()) as Engine[];
if (engines.includes('postgres') && !(await postgresReachable())) {
  process.stderr.write(`PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: benchmarking SQLite only.\n`);
  engines = engines.filter((e) => e !== 'postgres');
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
// First, while the machine is quiet: a database just filled keeps a core busy for a while (autovacuum).
const scaling = await bcryptScaling();
const results: Figures[] = [];
if (!args.json) process.stdout.write(`fedctl benchmark on ${machine}\n\n`);
for (const size of sizes) {
  for (const engine of engines) {
    const figures = await bench(size, engine);
    results.push(figures);
    if (!args.json) process.stdout.write(`${table(figures)}\n\n`);
  }
}
if (args.json) {
  process.stdout.write(`${JSON.stringify({ machine, results, bcrypt: scaling }, null, 2)}\n`);
} else {
  process.stdout.write(`bcrypt cost ${scaling.cost}: ${scaling.oneWorkerPerSec.toFixed(1)}/s on 1 worker, ${scaling.allWorkersPerSec.toFixed(1)}/s on ${scaling.workers}: ${scaling.speedup.toFixed(2)}×\n`);
}
