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
import { PlaintextSecretsStore } from '../src/secrets/secrets-file.js';
import { detectProvenance } from '../src/history/provenance.js';
import { fingerprintConfig } from '../src/plan/fingerprint.js';
import { applyToDatabase } from '../src/backends/database/apply-to-database.js';
import { hashSecrets, hashWorkerCount } from '../src/apply/hash-pool.js';
import { loadConfig } from '../src/config/load-config.js';
import { validateConfig } from '../src/config/validate-config.js';
import type { DatabaseAdapter } from '../src/db/database-adapter.js';
import { parseDatabaseUrl, type DatabaseTarget, type Engine } from '../src/db/database-url.js';
import { initDatabase } from '../src/db/init-database.js';
import { openDatabase } from '../src/db/open-database.js';
import type { DesiredState } from '../src/federation.js';
import { computePlan } from '../src/plan/compute-plan.js';
import { assessPlan } from '../src/policy/assess-plan.js';
import { DEFAULT_PLAN_OPTIONS } from '../src/plan/plan-options.js';
import { loadLiveState } from '../src/backends/database/read-database-state.js';
import type { SqliteDriverName } from '../src/db/sqlite/sqlite-driver.js';
import { createScratchPostgres } from '../test/helpers/scratch-postgres.js';
import { SIZES, changeOnePercent, configText, generateFederation, type SizeName } from './generate-federation.js';

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
    api: { type: 'string', default: 'S,M' },
  },
});

/** vantage6's cost at S; the large sizes hash thousands of keys, so they run cheaper unless told. */
const costFor = (size: SizeName): number => Number(args['bcrypt-cost'] ?? (size === 'S' ? 12 : 4));

/** Process figures of one way of writing the federation. */
interface VariantFigures {
  configMB: number;
  validateMs: number;
  planEmptyMs: number;
  planNoChangeMs: number;
  planNoChangePeakMB: number;
}

/** How the federation is written: plain ASCII, realistic names and comments, and the same with anchors for shared values. */
const VARIANTS = ['plain', 'realistic', 'anchors'] as const;
type Variant = (typeof VARIANTS)[number];

interface Figures {
  size: SizeName;
  engine: Engine;
  variants: Record<Variant, VariantFigures>;
  applyDbMs: number;
  applyBcryptMs: number;
  bcryptCost: number;
  bcryptWorkers: number;
  secretsHashed: number;
  planChangeMs: number;
  /** No-op plan of the realistic federation on a 4.3 database upgraded to 4.14, with a task and a run per user. */
  planUpgradedMs: number;
  applyChangeMs: number;
  statementsPerPlan: number;
  statementsPerApply: number;
  statementsPerChangeApply: number;
}

/** Runs of each timed command: single process timings on a shared machine are noisy. */
const RUNS = 5;

/** The median of RUNS runs of the built command, and the highest peak memory of them. */
function runFedctl(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { ms: number; code: number; peakMB: number; stdout: string } {
  const runs = Array.from({ length: RUNS }, () => runOnce(argv, cwd, env)).sort((a, b) => a.ms - b.ms);
  const median = runs[Math.floor(RUNS / 2)] as ReturnType<typeof runOnce>;
  return { ...median, peakMB: Math.max(...runs.map((r) => r.peakMB)) };
}

/** Run the built command as a user does; returns wall time, exit code and peak memory. */
function runOnce(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { ms: number; code: number; peakMB: number; stdout: string } {
  const rssFile = path.join(cwd, `rss-${process.hrtime.bigint()}`);
  const start = performance.now();
  const result = spawnSync(process.execPath, ['--import', RSS_REPORTER, BIN, ...argv], {
    cwd, encoding: 'utf8', env: { PATH: process.env.PATH, FEDCTL_BENCH_RSS_FILE: rssFile, ...env }, maxBuffer: 1 << 30,
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

async function createDatabase(engine: Engine, dir: string, name: string): Promise<{ url: string; target: DatabaseTarget; drop: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const url = `sqlite:///${path.join(dir, `${name}.sqlite`)}`;
    return { url, target: parseDatabaseUrl(url, dir), drop: async () => undefined };
  }
  const scratch = await createScratchPostgres(POSTGRES_ADMIN_URL, 'fedctl_bench');
  return { url: scratch.url, target: parseDatabaseUrl(scratch.url, dir), drop: () => scratch.drop() };
}

/** Apply in-process, counting statements and splitting bcrypt time from database time. */
async function timedApply(adapter: DatabaseAdapter, desired: DesiredState, cost: number, dir: string, counter: { n: number }) {
  const { live, initialize } = await loadLiveState(adapter);
  const plan = assessPlan(computePlan(desired, live, { engine: adapter.engine, display: adapter.target.display, initialize }, DEFAULT_PLAN_OPTIONS), live, desired.policy);
  const start = performance.now();
  let hashedAt = start;
  let hashed = 0;
  counter.n = 0;
  await applyToDatabase(adapter, plan, () => plan, {
    secrets: new PlaintextSecretsStore(path.join(dir, 'fedctl-secrets.yaml')),
    record: { provenance: await detectProvenance(process.env, dir, []), configFingerprint: fingerprintConfig(desired) },
    bcryptCost: cost, lockTimeoutMs: 60_000, allowDestroy: false, env: {}, serverAddress: null,
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

/**
 * The realistic federation's value, and its text without and with anchors:
 * the same content (so one database serves both), shared values written out
 * in one and as anchors and aliases in the other.
 */
function texts(size: SizeName, seed: number): { plain: string; realistic: string; anchors: string; realisticConfig: Record<string, unknown> } {
  const realisticConfig = generateFederation(size, seed, 'realistic', true);
  return {
    plain: configText(generateFederation(size, seed, 'plain'), 'plain'),
    // A JSON round trip unshares every value: no anchors.
    realistic: configText(JSON.parse(JSON.stringify(realisticConfig)) as Record<string, unknown>, 'realistic'),
    anchors: configText(realisticConfig, 'realistic'),
    realisticConfig,
  };
}

async function bench(size: SizeName, engine: Engine): Promise<Figures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fedctl-bench-${size}-`));
  const written = texts(size, Number(args.seed));
  const files = Object.fromEntries(VARIANTS.map((variant) => {
    const file = path.join(dir, `${variant}.yaml`);
    writeFileSync(file, written[variant]);
    return [variant, file];
  })) as Record<Variant, string>;
  const changedFile = path.join(dir, 'changed.yaml');
  writeFileSync(changedFile, configText(changeOnePercent(written.realisticConfig), 'realistic'));
  const plainDb = await createDatabase(engine, dir, 'plain');
  const db = await createDatabase(engine, dir, 'realistic');
  const counter = { n: 0 };
  const adapter = await openDatabase(db.target, { readonly: false, onQuery: () => { counter.n++; } });
  const plainAdapter = await openDatabase(plainDb.target, { readonly: false });
  try {
    await initDatabase(adapter, 60_000);
    await initDatabase(plainAdapter, 60_000);
    const urlOf = (variant: Variant): string => (variant === 'plain' ? plainDb.url : db.url);
    const before = Object.fromEntries(VARIANTS.map((variant) => {
      const planEmpty = runFedctl(['plan', files[variant], '--database', urlOf(variant), '--detailed-exitcode'], dir);
      if (planEmpty.code !== 2) throw new Error(`plan of ${variant} against an empty database exited ${planEmpty.code}: ${planEmpty.stdout.slice(0, 500)}`);
      return [variant, { validate: runFedctl(['validate', files[variant]], dir), planEmpty }];
    })) as Record<Variant, { validate: ReturnType<typeof runFedctl>; planEmpty: ReturnType<typeof runFedctl> }>;
    const cost = costFor(size);
    const applied = await timedApply(adapter, await desiredState(files.realistic), cost, dir, counter);
    await timedApply(plainAdapter, await desiredState(files.plain), cost, dir, { n: 0 });
    const variants = Object.fromEntries(VARIANTS.map((variant) => {
      const planNoChange = runFedctl(['plan', files[variant], '--database', urlOf(variant), '--detailed-exitcode'], dir);
      mustBeUnchanged(planNoChange, `${size}/${engine}/${variant} apply from empty`);
      return [variant, {
        configMB: written[variant].length / 2 ** 20,
        validateMs: before[variant].validate.ms,
        planEmptyMs: before[variant].planEmpty.ms,
        planNoChangeMs: planNoChange.ms,
        planNoChangePeakMB: planNoChange.peakMB,
      }];
    })) as Record<Variant, VariantFigures>;
    counter.n = 0;
    await loadLiveState(adapter);
    const statementsPerPlan = counter.n;

    const changed = await desiredState(changedFile);
    const planStart = performance.now();
    const { live } = await loadLiveState(adapter);
    assessPlan(computePlan(changed, live, { engine, display: db.target.display, initialize: false }, DEFAULT_PLAN_OPTIONS), live, changed.policy);
    const planChangeMs = performance.now() - planStart;
    const applyStart = performance.now();
    const change = await timedApply(adapter, changed, cost, dir, counter);
    const applyChangeMs = performance.now() - applyStart;
    mustBeUnchanged(runFedctl(['plan', changedFile, '--database', db.url, '--detailed-exitcode'], dir), `${size}/${engine} 1% change`);
    const planUpgradedMs = await planOnUpgradedDatabase(engine, files.realistic, cost, dir);
    return {
      size, engine, variants,
      applyDbMs: applied.dbMs,
      applyBcryptMs: applied.bcryptMs,
      bcryptCost: cost,
      bcryptWorkers: hashWorkerCount(applied.hashed),
      secretsHashed: applied.hashed,
      planChangeMs,
      planUpgradedMs,
      applyChangeMs,
      statementsPerPlan,
      statementsPerApply: applied.statements,
      statementsPerChangeApply: change.statements,
    };
  } finally {
    await adapter.close();
    await plainAdapter.close();
    await db.drop();
    await plainDb.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A database as servers keep them over the years: made by a 4.3 server,
 * upgraded in place to 4.14 (columns added without constraints, the new rule
 * appended, built-in roles rewritten), the federation applied, and a task and
 * a run for every user, which every plan reads. The no-op plan's time.
 */
async function planOnUpgradedDatabase(engine: Engine, file: string, cost: number, dir: string): Promise<number> {
  const { createTestDatabase } = await import('../test/helpers/test-databases.js');
  const { addRootUser, loadRelease, upgradeFrom43To414 } = await import('../test/helpers/vantage6-releases.js');
  const db = await createTestDatabase(engine);
  try {
    await loadRelease(db, '4.3');
    await addRootUser(db);
    await upgradeFrom43To414(db);
    const adapter = await db.open();
    try {
      await timedApply(adapter, await desiredState(file), cost, db.dir, { n: 0 });
    } finally {
      await adapter.close();
    }
    await db.sql(`insert into task (name, collaboration_id, init_org_id, init_user_id)
      select 'analysis ' || u.id, (select min(id) from collaboration), u.organization_id, u.id from "user" u`);
    await db.sql('insert into run (task_id, organization_id) select id, init_org_id from task');
    const run = runFedctl(['plan', file, '--database', db.url, '--detailed-exitcode'], dir);
    mustBeUnchanged(run, `${engine} upgraded 4.3 database`);
    return run.ms;
  } finally {
    await db.drop();
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

interface Implementation {
  name: string;
  /** First hash in a fresh process part: loading and compiling the implementation. */
  startupMs: number;
  /** Resident memory the implementation added by its first hash. */
  memoryMB: number;
  /** Mean of four cost-12 hashes, after the first. */
  perHashMs: number;
}

/** bcrypt implementations, one cost-12 hash each, in this process (C bcrypt in Python's). */
async function bcryptImplementations(): Promise<Implementation[]> {
  const measure = async (name: string, hash: () => Promise<unknown> | unknown): Promise<Implementation> => {
    const rss = process.memoryUsage().rss;
    let start = performance.now();
    await hash();
    const first = performance.now() - start;
    const memoryMB = (process.memoryUsage().rss - rss) / 2 ** 20;
    start = performance.now();
    for (let i = 0; i < 4; i++) await hash();
    const perHashMs = (performance.now() - start) / 4;
    return { name, startupMs: Math.max(0, first - perHashMs), memoryMB, perHashMs };
  };
  const { bcryptHash } = await import('../src/apply/bcrypt-hash.js');
  const { bcrypt: wasm } = await import('hash-wasm');
  const { randomBytes } = await import('node:crypto');
  const bcryptjs = (await import('bcryptjs')).default;
  const results = [
    await measure('bcrypt (native addon; fedctl)', () => bcryptHash('c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22', 12)),
    await measure('hash-wasm (WebAssembly)', () => wasm({ password: 'c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22', salt: randomBytes(16), costFactor: 12, outputType: 'encoded' })),
    await measure('bcryptjs (JavaScript; before)', () => bcryptjs.hashSync('c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22', 12)),
  ];
  const python = pythonBcrypt('import bcrypt, time\nbcrypt.hashpw(b"x", bcrypt.gensalt(12))\nt = time.perf_counter()\nfor _ in range(4): bcrypt.hashpw(b"c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22", bcrypt.gensalt(12))\nprint((time.perf_counter() - t) / 4 * 1000)');
  if (python !== null) results.push({ name: 'C bcrypt (Python\'s, what vantage6 uses)', startupMs: 0, memoryMB: 0, perHashMs: python });
  return results;
}

/** A number a Python snippet prints, run with the system Python's bcrypt; null without it. */
function pythonBcrypt(script: string): number | null {
  const result = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.trim()) : null;
}

/**
 * The hashing a vantage6 import of 20 organizations, 100 users with passwords
 * and 20 nodes does: fedctl's whole apply at cost 12 on all cores against C
 * bcrypt hashing the same 120 secrets on one core, in the same run.
 */
async function applyVersusCBcrypt(): Promise<{ applyMs: number; cBcryptMs: number | null; ratio: number | null; secrets: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-bench-bcrypt-'));
  const organizations = Array.from({ length: 20 }, (_, i) => ({ name: `Hospital ${i} & Partners` }));
  const config = {
    version: 1,
    organizations,
    collaborations: [{ name: 'Trial', members: organizations.map((o) => ({ organization: o.name })) }],
    users: Array.from({ length: 100 }, (_, u) => ({ username: `user.${u}`, organization: organizations[u % 20]?.name, roles: ['Researcher'], password: 'generate' })),
  };
  const file = path.join(dir, 'federation.yaml');
  writeFileSync(file, configText(config, 'plain'));
  const db = await createDatabase('sqlite', dir, 'bcrypt');
  const adapter = await openDatabase(db.target, { readonly: false });
  try {
    await initDatabase(adapter, 60_000);
    const start = performance.now();
    const { hashed } = await timedApply(adapter, await desiredState(file), 12, dir, { n: 0 });
    const applyMs = performance.now() - start;
    const cBcryptMs = pythonBcrypt(`import bcrypt, time\nt = time.perf_counter()\nfor i in range(${hashed}): bcrypt.hashpw(b"c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22", bcrypt.gensalt(12))\nprint((time.perf_counter() - t) * 1000)`);
    return { applyMs, cBcryptMs, ratio: cBcryptMs === null ? null : applyMs / cBcryptMs, secrets: hashed };
  } finally {
    await adapter.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

function table(f: Figures): string {
  const n = SIZES[f.size];
  const v = f.variants;
  const side = (pick: (x: VariantFigures) => string): string => VARIANTS.map((variant) => pick(v[variant]).padStart(9)).join(' ');
  const rows: [string, string][] = [
    ['config', `${n.organizations} orgs, ${n.users} users, ${n.collaborations} collabs, ~${n.nodes} nodes, ${n.roles} roles, ${n.studies} studies`],
    ['', VARIANTS.map((variant) => variant.padStart(9)).join(' ')],
    ['config size', side((x) => `${x.configMB.toFixed(1)} MB`)],
    [`validate (process, median of ${RUNS})`, side((x) => ms(x.validateMs))],
    [`plan, empty database (process, median of ${RUNS})`, side((x) => ms(x.planEmptyMs))],
    [`plan, no changes (process, median of ${RUNS})`, side((x) => ms(x.planNoChangeMs))],
    ['peak memory, plan no changes', side((x) => `${Math.round(x.planNoChangePeakMB)} MB`)],
    ['apply from empty: database (realistic)', ms(f.applyDbMs)],
    ['apply from empty: bcrypt (realistic)', `${ms(f.applyBcryptMs)} (${f.secretsHashed} secrets, cost ${f.bcryptCost}, ${f.bcryptWorkers} workers)`],
    ['plan, 1% change (in-process)', ms(f.planChangeMs)],
    ['plan, no changes, upgraded 4.3 database', ms(f.planUpgradedMs)],
    ['apply, 1% change (in-process)', ms(f.applyChangeMs)],
    ['SQL statements per plan', String(f.statementsPerPlan)],
    ['SQL statements per apply (from empty / 1%)', `${f.statementsPerApply} / ${f.statementsPerChangeApply}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`${f.size} on ${f.engine}`, ...rows.map(([k, value]) => `  ${k.padEnd(width)}  ${value}`)].join('\n');
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

/** What a no-op plan through a server's REST API costs: the time a user waits, and the requests it makes. */
interface ApiFigures {
  size: SizeName;
  release: string;
  planNoChangeMs: number;
  requests: number;
}

/** The API's server release: the one the issue's target names. */
const API_RELEASE = '4.14.0';

/**
 * Fill a database with the realistic federation directly (fast), start the
 * real server of API_RELEASE on it, and time no-op plans through its API as
 * a user runs them; count the requests of one plan in-process.
 */
async function benchApi(size: SizeName): Promise<ApiFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fedctl-bench-api-${size}-`));
  const engine: Engine = engines.includes('postgres') ? 'postgres' : 'sqlite';
  const database = await createDatabase(engine, dir, 'api');
  const file = path.join(dir, 'federation.yaml');
  writeFileSync(file, texts(size, Number(args.seed)).realistic);
  const { startRealServer } = await import('../test/real-server/real-server.js');
  let server: Awaited<ReturnType<typeof startRealServer>> | null = null;
  try {
    const init = runOnce(['init', '--database', database.url], dir);
    const applied = runOnce(['apply', file, '--database', database.url, '--auto-approve', '--bcrypt-cost', '4', '--no-history'], dir);
    if (init.code !== 0 || applied.code !== 0) throw new Error(`cannot fill the database for the API benchmark: ${applied.stdout.slice(0, 500)}`);
    server = await startRealServer(API_RELEASE, database.url, path.join(dir, 'server'));
    const { account } = server;
    const plan = runFedctl(['plan', file, '--server', server.api, '--detailed-exitcode'], dir, account);
    mustBeUnchanged(plan, `${size} plan through the API`);
    const { Vantage6Api } = await import('../src/backends/api/vantage6-api.js');
    const { readApiState } = await import('../src/backends/api/read-api-state.js');
    let requests = 0;
    const api = await Vantage6Api.connect(server.api, account, () => { requests++; });
    requests = 0;
    await readApiState(api, Number(API_RELEASE.split('.')[1]), { forDeletes: false });
    return { size, release: API_RELEASE, planNoChangeMs: plan.ms, requests };
  } finally {
    await server?.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The SQLite drivers fedctl can run on here: Node.js's own (22.13+), and better-sqlite3 where it loads in this Node.js. */
function loadableDrivers(): SqliteDriverName[] {
  return (['node:sqlite', 'better-sqlite3'] as const).filter((driver) => {
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `const { checkSqliteDriver } = await import(${JSON.stringify(path.join(ROOT, 'src/db/sqlite/sqlite-driver.ts'))}); checkSqliteDriver();`],
      { env: { ...process.env, FEDCTL_SQLITE_DRIVER: driver, NODE_OPTIONS: '--import tsx' }, encoding: 'utf8' });
    return probe.status === 0;
  });
}

interface DriverFigures { size: SizeName; driver: SqliteDriverName; applyMs: number; planNoChangeMs: number; planNoChangePeakMB: number }

/**
 * node:sqlite against better-sqlite3, side by side: the realistic federation
 * applied to an empty file (cost-4 hashes, so that the database's share
 * shows) and then planned as no changes, as users run fedctl.
 */
function benchDrivers(size: SizeName, drivers: readonly SqliteDriverName[]): DriverFigures[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fedctl-bench-drivers-${size}-`));
  try {
    const file = path.join(dir, 'federation.yaml');
    writeFileSync(file, texts(size, Number(args.seed)).realistic);
    return drivers.map((driver) => {
      const url = `sqlite:///${path.join(dir, `${driver.replace(':', '-')}.sqlite`)}`;
      const env = { FEDCTL_SQLITE_DRIVER: driver };
      const apply = runOnce(['apply', file, '--database', url, '--auto-approve', '--bcrypt-cost', '4', '--secrets-file', path.join(dir, `${driver.replace(':', '-')}-secrets.yaml`)], dir, env);
      if (apply.code !== 0) throw new Error(`apply on ${driver} exited ${apply.code}: ${apply.stdout.slice(0, 500)}`);
      const plan = runFedctl(['plan', file, '--database', url, '--detailed-exitcode'], dir, env);
      mustBeUnchanged(plan, `${size} on ${driver}`);
      return { size, driver, applyMs: apply.ms, planNoChangeMs: plan.ms, planNoChangePeakMB: plan.peakMB };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = args.size === 'none' ? [] : (args.size as string).split(',').map((s) => s.trim().toUpperCase()) as SizeName[];
const apiSizes = args.api === 'none' ? [] : (args.api as string).split(',').map((s) => s.trim().toUpperCase()) as SizeName[];
let engines = (args.engine as string).split(',').map((e) => e.trim()) as Engine[];
if (engines.includes('postgres') && !(await postgresReachable())) {
  process.stderr.write(`PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: benchmarking SQLite only.\n`);
  engines = engines.filter((e) => e !== 'postgres');
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
// First, while the machine is quiet: a database just filled keeps a core busy for a while (autovacuum).
const implementations = await bcryptImplementations();
const scaling = await bcryptScaling();
const versusC = await applyVersusCBcrypt();
const results: Figures[] = [];
if (!args.json) process.stdout.write(`fedctl benchmark on ${machine}\n\n`);
for (const size of sizes) {
  for (const engine of engines) {
    const figures = await bench(size, engine);
    results.push(figures);
    if (!args.json) process.stdout.write(`${table(figures)}\n\n`);
  }
}
const drivers = sizes.length > 0 && engines.includes('sqlite') ? loadableDrivers() : [];
const driverResults = drivers.length === 0 ? [] : sizes.flatMap((size) => benchDrivers(size, drivers));
if (!args.json && drivers.length > 0) {
  process.stdout.write(`SQLite drivers side by side (realistic federation, apply from empty at bcrypt cost 4, then a no-op plan; ratio to ${drivers[0]}):\n`);
  for (const size of sizes) {
    const rows = driverResults.filter((r) => r.size === size);
    const base = rows[0];
    for (const r of rows) {
      process.stdout.write(`  ${size} ${r.driver.padEnd(15)} apply ${ms(r.applyMs).padStart(8)} (${(r.applyMs / (base?.applyMs ?? r.applyMs)).toFixed(2)}×)  `
        + `plan ${ms(r.planNoChangeMs).padStart(8)} (${(r.planNoChangeMs / (base?.planNoChangeMs ?? r.planNoChangeMs)).toFixed(2)}×), peak ${r.planNoChangePeakMB.toFixed(0)} MB\n`);
    }
  }
  const missing = (['node:sqlite', 'better-sqlite3'] as const).filter((d) => !drivers.includes(d));
  if (missing.length > 0) process.stdout.write(`  not loadable in Node.js ${process.version}: ${missing.join(', ')} (node:sqlite needs 22.13+; better-sqlite3 must be built for this Node.js: npm rebuild better-sqlite3)\n`);
  process.stdout.write('\n');
}
const apiResults: ApiFigures[] = [];
for (const size of apiSizes) {
  const figures = await benchApi(size);
  apiResults.push(figures);
  if (!args.json) {
    process.stdout.write(`${size} through the API of vantage6 ${figures.release} (realistic federation): a no-op plan ${ms(figures.planNoChangeMs)}, `
      + `${figures.requests} requests (besides logging in)\n`);
  }
}
if (args.json) {
  process.stdout.write(`${JSON.stringify({ machine, results, drivers: driverResults, api: apiResults, bcrypt: { implementations, scaling, versusC } }, null, 2)}\n`);
} else {
  const native = implementations.find((i) => i.name.startsWith('bcrypt '))?.perHashMs ?? NaN;
  process.stdout.write('bcrypt, one cost-12 hash:\n');
  for (const i of implementations) {
    process.stdout.write(`  ${i.name.padEnd(42)} ${ms(i.perHashMs).padStart(7)}  ${(1000 / i.perHashMs).toFixed(2)} hashes/s per core  ${(i.perHashMs / native).toFixed(2)}× native`
      + `${i.startupMs > 0 || i.memoryMB > 0 ? `  start-up ${ms(i.startupMs)}, +${i.memoryMB.toFixed(1)} MB` : ''}\n`);
  }
  process.stdout.write(`bcrypt cost ${scaling.cost}: ${scaling.oneWorkerPerSec.toFixed(1)}/s on 1 worker, ${scaling.allWorkersPerSec.toFixed(1)}/s on ${scaling.workers}: ${scaling.speedup.toFixed(2)}×\n`);
  process.stdout.write(`apply of 20 organizations, 100 users with passwords and 20 nodes at cost 12 (${versusC.secrets} secrets): ${ms(versusC.applyMs)}; `
    + `C bcrypt hashing them on one core: ${versusC.cBcryptMs === null ? 'not measured (no Python bcrypt)' : `${ms(versusC.cBcryptMs)}: ${versusC.ratio?.toFixed(2)}×`}\n`);
}
