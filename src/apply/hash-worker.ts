import { parentPort } from 'node:worker_threads';
import { bcryptHash } from './bcrypt-hash.js';

/** One bcrypt job; each worker thread hashes one secret at a time. */
export interface HashRequest {
  readonly index: number;
  readonly secret: string;
  readonly cost: number;
}

export interface HashResponse {
  readonly index: number;
  readonly hash: string;
}

parentPort?.on('message', (request: HashRequest) => {
  const response: HashResponse = { index: request.index, hash: bcryptHash(request.secret, request.cost) };
  parentPort?.postMessage(response);
});
