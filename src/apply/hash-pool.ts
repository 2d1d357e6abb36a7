import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { RUNS_FROM_SOURCE } from '../package-files.js';
import { bcryptHash } from './bcrypt-hash.js';
import type { HashRequest, HashResponse } from './hash-worker.js';

/** Hashing work below this (in cost-4 hashes, about a millisecond each) is not worth starting threads. */
const INLINE_WORK = 256;

/** bcrypt's work doubles with each step of cost. */
function work(count: number, cost: number): number {
  return count * 2 ** (cost - 4);
}

// The worker is a sibling module: .ts when running from source, .js when built.
const WORKER_URL = new URL(`./hash-worker.${RUNS_FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

function startWorker(): Worker {
  if (!RUNS_FROM_SOURCE) return new Worker(WORKER_URL);
  // Node 20 does not apply --import hooks to a worker's entry module: register tsx, then load the worker.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}); })`, { eval: true });
}

export function hashWorkerCount(jobs: number): number {
  return Math.max(1, Math.min(os.availableParallelism(), jobs));
}

export interface HashOptions {
  readonly onProgress?: (done: number, total: number) => void;
  /** Threads to use; default one per core. */
  readonly workers?: number;
  /** Stops hashing (Ctrl-C): the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * bcrypt-hash secrets (`$2b$`, as Python's bcrypt writes and verifies) on
 * all cores: bcrypt dominates apply time, one worker thread per core.
 */
export async function hashSecrets(secrets: readonly string[], cost: number, options: HashOptions = {}): Promise<string[]> {
  const { onProgress, signal } = options;
  if (secrets.length === 0) return [];
  if (secrets.length === 1 || work(secrets.length, cost) < INLINE_WORK) {
    // Starting threads costs more than it saves for one hash or a few cheap ones.
    const hashes: string[] = [];
    for (const secret of secrets) {
      signal?.throwIfAborted();
      hashes.push(bcryptHash(secret, cost));
      onProgress?.(hashes.length, secrets.length);
    }
    return hashes;
  }
  const workerCount = options.workers ?? hashWorkerCount(secrets.length);
  const hashes = new Array<string>(secrets.length);
  const workers = Array.from({ length: workerCount }, startWorker);
  let next = 0;
  let done = 0;
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      const feed = (): void => {
        if (next >= secrets.length) {
          resolve();
          return;
        }
        const index = next++;
        const request: HashRequest = { index, secret: secrets[index] as string, cost };
        worker.postMessage(request);
      };
      worker.on('message', (response: HashResponse) => {
        hashes[response.index] = response.hash;
        done++;
        onProgress?.(done, secrets.length);
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0) reject(new Error(`bcrypt worker stopped with exit code ${code}`));
      });
      feed();
    })));
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return hashes;
}
