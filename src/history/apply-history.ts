import type { Kysely } from 'kysely';
import type { Vantage6Db } from '../db/database-adapter.js';
import type { SchemaColumns } from '../db/inspect-schema.js';
import { HISTORY_TABLE } from '../db/vantage6-tables.js';
import type { Plan, PlanHistory } from '../plan/plan.js';

/**
 * The audit trail: one row per apply that changed something, written in the
 * apply's own transaction (so a record exists if and only if its changes
 * were committed), in a table of fedctl's own that the vantage6 server
 * never reads or alters. Both sides live here: recording, and reading the
 * last record (plan's header) and the list (`fedctl history`).
 */

/** Where an apply came from, as the CI system or git tell it; no credential is ever kept. */
export interface Provenance {
  readonly commit: string | null;
  readonly author: string | null;
  readonly branch: string | null;
  readonly repository: string | null;
  /** The CI job that ran the apply. */
  readonly ciJobUrl: string | null;
  readonly ci: 'github-actions' | 'gitlab-ci' | null;
  /** The config files had changes not committed to git. */
  readonly uncommittedChanges: boolean | null;
  /** The operating-system user fedctl ran as. */
  readonly osUser: string | null;
}

/** One recorded apply. Holds no secret: the plan JSON never has one, nor does the provenance. */
export interface ApplyRecord extends Provenance {
  readonly id: number;
  /** ISO 8601, UTC. */
  readonly appliedAt: string;
  readonly fedctlVersion: string;
  /** `2 added, 1 changed, 0 destroyed`. */
  readonly summary: string;
  readonly configFingerprint: string;
  /** The database's administrative state right after the apply: a later plan that reads another one knows it changed outside fedctl. */
  readonly stateFingerprint: string;
  readonly plan: Plan;
}

interface HistoryTable {
  id: number;
  applied_at: string;
  fedctl_version: string;
  summary: string;
  config_fingerprint: string;
  state_fingerprint: string;
  git_commit: string | null;
  git_author: string | null;
  git_branch: string | null;
  git_repository: string | null;
  ci_job_url: string | null;
  ci_system: string | null;
  uncommitted_changes: boolean | number | null;
  os_user: string | null;
  plan: string;
}

type HistoryDb = Kysely<{ fedctl_history: HistoryTable }>;

const history = (db: Vantage6Db): HistoryDb => db.withTables<{ fedctl_history: HistoryTable }>() as unknown as HistoryDb;

/** Does the database have fedctl's history table? (`init` never creates it; the first recorded apply does.) */
export function hasHistory(columns: SchemaColumns): boolean {
  return columns.get(HISTORY_TABLE)?.has('state_fingerprint') ?? false;
}

/** Inside apply's transaction: create the table if this database has none yet, then add the record. */
export async function recordApply(trx: Vantage6Db, exists: boolean, record: Omit<ApplyRecord, 'id'>, toBoolean: (value: boolean) => boolean | number): Promise<number> {
  const db = history(trx);
  if (!exists) {
    await db.schema.createTable(HISTORY_TABLE).ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'varchar(40)', (c) => c.notNull())
      .addColumn('fedctl_version', 'varchar(40)', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('config_fingerprint', 'varchar(80)', (c) => c.notNull())
      .addColumn('state_fingerprint', 'varchar(80)', (c) => c.notNull())
      .addColumn('git_commit', 'text')
      .addColumn('git_author', 'text')
      .addColumn('git_branch', 'text')
      .addColumn('git_repository', 'text')
      .addColumn('ci_job_url', 'text')
      .addColumn('ci_system', 'varchar(40)')
      .addColumn('uncommitted_changes', 'boolean')
      .addColumn('os_user', 'text')
      .addColumn('plan', 'text', (c) => c.notNull())
      .execute();
  }
  // Applies are serialized by fedctl's lock, so the next id is free.
  const { next } = await db.selectFrom(HISTORY_TABLE).select((eb) => eb.fn.coalesce(eb.fn.max('id'), eb.lit(0)).as('next')).executeTakeFirstOrThrow();
  const id = Number(next) + 1;
  await db.insertInto(HISTORY_TABLE).values({
    id,
    applied_at: record.appliedAt,
    fedctl_version: record.fedctlVersion,
    summary: record.summary,
    config_fingerprint: record.configFingerprint,
    state_fingerprint: record.stateFingerprint,
    git_commit: record.commit,
    git_author: record.author,
    git_branch: record.branch,
    git_repository: record.repository,
    ci_job_url: record.ciJobUrl,
    ci_system: record.ci,
    uncommitted_changes: record.uncommittedChanges === null ? null : toBoolean(record.uncommittedChanges),
    os_user: record.osUser,
    plan: JSON.stringify(record.plan),
  }).execute();
  return id;
}

/** A record without its plan, which can be large: what lists and a plan's header need. */
export type ApplySummary = Omit<ApplyRecord, 'plan'>;

const SUMMARY_COLUMNS = ['id', 'applied_at', 'fedctl_version', 'summary', 'config_fingerprint', 'state_fingerprint', 'git_commit',
  'git_author', 'git_branch', 'git_repository', 'ci_job_url', 'ci_system', 'uncommitted_changes', 'os_user'] as const;

function summaryFromRow(row: Omit<HistoryTable, 'plan'>): ApplySummary {
  return {
    id: Number(row.id),
    appliedAt: row.applied_at,
    fedctlVersion: row.fedctl_version,
    summary: row.summary,
    configFingerprint: row.config_fingerprint,
    stateFingerprint: row.state_fingerprint,
    commit: row.git_commit,
    author: row.git_author,
    branch: row.git_branch,
    repository: row.git_repository,
    ciJobUrl: row.ci_job_url,
    ci: row.ci_system === 'github-actions' || row.ci_system === 'gitlab-ci' ? row.ci_system : null,
    uncommittedChanges: row.uncommitted_changes === null ? null : Boolean(row.uncommitted_changes),
    osUser: row.os_user,
  };
}

/** The newest records first, at most `limit`, without their plans. */
export async function listApplies(db: Vantage6Db, limit: number): Promise<ApplySummary[]> {
  const rows = await history(db).selectFrom(HISTORY_TABLE).select(SUMMARY_COLUMNS).orderBy('id', 'desc').limit(limit).execute();
  return rows.map(summaryFromRow);
}

/** One record in full, with its plan. */
export async function readApply(db: Vantage6Db, id: number): Promise<ApplyRecord | null> {
  const row = await history(db).selectFrom(HISTORY_TABLE).selectAll().where('id', '=', id).executeTakeFirst();
  return row ? { ...summaryFromRow(row), plan: JSON.parse(row.plan) as Plan } : null;
}

/**
 * The history part of a plan, from the last record and the fingerprint of the
 * state the plan was made from (computed only when there is a record to
 * compare it with: at the largest sizes it takes a tenth of a second).
 */
/** Where fedctl keeps no history: nothing recorded, nothing to compare. */
export const NO_HISTORY_KEPT: PlanHistory = { kept: false, recording: false, lastApply: null, changedOutsideFedctl: false };

export function planHistory(last: ApplySummary | null, stateFingerprint: () => string, recording: boolean): PlanHistory {
  return {
    recording,
    lastApply: last && { id: last.id, appliedAt: last.appliedAt, commit: last.commit, author: last.author, branch: last.branch, summary: last.summary },
    changedOutsideFedctl: last !== null && last.stateFingerprint !== stateFingerprint(),
  };
}

/** `2026-11-28 12:00:01 UTC`: when an apply happened, as people read it. */
export function formatAppliedAt(appliedAt: string): string {
  return appliedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

/** `#3 at 2026-11-28 12:00:01 UTC from commit 1a2b3c4 (main) by Anna`: how messages name an apply. */
export function describeApply(apply: PlanHistory['lastApply'] & object): string {
  const when = formatAppliedAt(apply.appliedAt);
  const commit = apply.commit ? ` from commit ${apply.commit.slice(0, 12)}${apply.branch ? ` (${apply.branch})` : ''}` : '';
  return `#${apply.id} at ${when}${commit}${apply.author ? ` by ${apply.author}` : ''}`;
}
