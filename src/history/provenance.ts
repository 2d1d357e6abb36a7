import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import type { Environment } from '../config/interpolate.js';
import type { Provenance } from './apply-history.js';

const run = promisify(execFile);

/** `https://user:token@host/x.git` → `https://host/x.git`: a remote URL without the credential some CI checkouts put in it. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

const nonEmpty = (value: string | undefined): string | null => (value === undefined || value.trim() === '' ? null : value.trim());

type CiFacts = Omit<Provenance, 'uncommittedChanges' | 'osUser'>;

/** What GitHub Actions and GitLab CI tell a job about itself, from their documented variables. */
export function ciProvenance(env: Environment): CiFacts | null {
  if (env.GITHUB_ACTIONS === 'true') {
    const server = nonEmpty(env.GITHUB_SERVER_URL) ?? 'https://github.com';
    const repository = nonEmpty(env.GITHUB_REPOSITORY);
    const runId = nonEmpty(env.GITHUB_RUN_ID);
    return {
      ci: 'github-actions',
      commit: nonEmpty(env.GITHUB_SHA),
      author: nonEmpty(env.GITHUB_TRIGGERING_ACTOR) ?? nonEmpty(env.GITHUB_ACTOR),
      branch: nonEmpty(env.GITHUB_HEAD_REF) ?? nonEmpty(env.GITHUB_REF_NAME),
      repository: repository && `${server}/${repository}`,
      ciJobUrl: repository && runId && `${server}/${repository}/actions/runs/${runId}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`,
    };
  }
  if (env.GITLAB_CI === 'true') {
    return {
      ci: 'gitlab-ci',
      commit: nonEmpty(env.CI_COMMIT_SHA),
      author: nonEmpty(env.CI_COMMIT_AUTHOR) ?? nonEmpty(env.GITLAB_USER_LOGIN),
      branch: nonEmpty(env.CI_COMMIT_REF_NAME),
      repository: nonEmpty(env.CI_PROJECT_URL),
      ciJobUrl: nonEmpty(env.CI_JOB_URL),
    };
  }
  return null;
}

async function git(dir: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['-C', dir, ...args], { timeout: 5000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    return nonEmpty(stdout);
  } catch {
    return null;
  }
}

/**
 * Where an apply comes from: the CI system's own variables where it sets
 * them, else git in the config's folder; and the operating-system user.
 * Every part may be unknown (no git, not a repository).
 */
export async function detectProvenance(env: Environment, configDir: string, configFiles: readonly string[]): Promise<Provenance> {
  const ci = ciProvenance(env);
  const [commit, author, branch, remote, status] = await Promise.all([
    ci?.commit ? ci.commit : git(configDir, ['rev-parse', 'HEAD']),
    ci?.author ? ci.author : git(configDir, ['log', '-1', '--format=%an <%ae>']),
    ci?.branch ? ci.branch : git(configDir, ['rev-parse', '--abbrev-ref', 'HEAD']),
    ci?.repository ? ci.repository : git(configDir, ['config', '--get', 'remote.origin.url']),
    git(configDir, ['status', '--porcelain', '--', ...configFiles]),
  ]);
  let osUser: string | null;
  try {
    osUser = os.userInfo().username;
  } catch {
    osUser = nonEmpty(env.USER);
  }
  return {
    ci: ci?.ci ?? null,
    commit,
    author,
    branch,
    repository: remote && withoutCredentials(remote),
    ciJobUrl: ci?.ciJobUrl ?? null,
    // Known only inside a repository (where `git rev-parse` found a commit).
    uncommittedChanges: commit === null || ci !== null ? null : status !== null,
    osUser,
  };
}
