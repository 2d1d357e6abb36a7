import { serverMinor, usesKeycloak } from '../../catalog/vantage6-versions.js';
import { FedctlError } from '../../errors.js';
import { fingerprintAdministration } from '../../plan/fingerprint.js';
import type { Plan } from '../../plan/plan.js';
import type { LiveState } from '../../state/live-state.js';
import type { ApplyOptions, ApplyResult, Backend, BackendCapabilities, LoadedLiveState, ReadOptions, ResolvePlan } from '../backend.js';
import { applyThroughApi } from './apply-through-api.js';
import { readApiState } from './read-api-state.js';
import { Vantage6Api } from './vantage6-api.js';

/**
 * No transaction, keys made by the server, and no place for fedctl's history:
 * an apply is ordered calls, each key recorded as the server gives it.
 */
const CAPABILITIES = { transactional: false, nodeKeys: 'server', hashing: 'server', history: false, initialize: false } as const;

/** A vantage6 4.x server, or a vantage6 5 HQ, reached through its REST API as an administrator's account. */
export class ApiBackend implements Backend {
  readonly kind = 'api';
  readonly capabilities: BackendCapabilities;

  constructor(private readonly api: Vantage6Api, private readonly minor: number) {
    this.capabilities = { ...CAPABILITIES, identities: usesKeycloak(minor) ? 'keycloak' : 'server' };
  }

  get display(): string {
    return this.api.url;
  }

  async read({ forDeletes }: ReadOptions): Promise<LoadedLiveState> {
    return { live: await readApiState(this.api, this.minor, { forDeletes }), initialize: false, lastApply: null };
  }

  /** What the API returned, without what tasks and runs refer to: read only for deletes, and without a transaction to hold it still. */
  fingerprint(live: LiveState): string {
    return fingerprintAdministration(live);
  }

  /** Read afresh just before the calls (there is no lock to hold the server still), then make them. */
  async apply(plan: Plan, resolve: ResolvePlan, options: ApplyOptions): Promise<ApplyResult> {
    const deletes = plan.changes.some((change) => change.action === 'delete') || plan.blocked.length > 0;
    const live = await readApiState(this.api, this.minor, { forDeletes: deletes });
    return applyThroughApi(this.api, plan, resolve, live, options);
  }
}

/** Log in to the server at `url` with the account of the environment; its release decides what fedctl expects of it. */
export async function connectApi(url: string, env: NodeJS.ProcessEnv): Promise<ApiBackend> {
  const api = await Vantage6Api.connect(url, env);
  const minor = serverMinor(api.version);
  if (minor === null) {
    throw new FedctlError('BACKEND_UNSUPPORTED', `${api.url} is vantage6 ${api.version}; fedctl reaches vantage6 4.x and 5.0 servers through their API`,
      'use a vantage6 4.x or 5.0 server, or a 4.x server\'s database with --database');
  }
  return new ApiBackend(api, minor);
}
