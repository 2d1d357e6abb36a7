import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { HTTPError, RequestError, type Got } from 'got';
import pLimit from 'p-limit';
import { listAllPages, refusal } from '../../backends/api/paged-json.js';
import { FedctlError } from '../../errors.js';

const PARALLEL_REQUESTS = 6;

/**
 * A session with an algorithm store's API as fedctl's account: the account's
 * token of the server (4.x: the store checks it with the server its
 * `Server-Url` header names, which must be whitelisted there) or of Keycloak
 * (5.x, which the store trusts).
 */
export class StoreApi {
  private readonly limit = pLimit(PARALLEL_REQUESTS);
  private readonly http: Got;

  /** `serverUrl`: the server as the store whitelisted it (4.x); null for a 5.x store. */
  constructor(readonly url: string, token: () => Promise<string>, serverUrl: string | null) {
    this.http = got.extend({
      prefixUrl: url, responseType: 'json', timeout: { request: 60_000 }, retry: { limit: 2 },
      // A store served as its image serves it (uwsgi's HTTP router) closes each connection after its answer: a kept-alive socket would fail the next write.
      agent: { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent({ keepAlive: false }) },
      hooks: { beforeRequest: [async (options) => {
        options.headers.authorization = `Bearer ${await token()}`;
        if (serverUrl !== null) options.headers['server-url'] = serverUrl;
      }] },
    });
  }

  /** Every item of a list endpoint, page by page. */
  async list<T>(path: string, filter: Readonly<Record<string, string | number>> = {}): Promise<T[]> {
    return this.limit(() => this.call(`GET ${path}`, () => listAllPages<T>(this.http, path, filter)));
  }

  async get<T>(path: string): Promise<T> {
    return this.limit(() => this.call(`GET ${path}`, () => this.http.get(path).json<T>()));
  }

  async write<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, json?: unknown): Promise<T> {
    return this.call(`${method} ${path}`, () => this.http(path, { method, ...(json === undefined ? {} : { json }), retry: { limit: 0 } }).json<T>());
  }

  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof HTTPError) {
        const status = error.response.statusCode;
        throw new FedctlError('STORE_REFUSED', `algorithm store ${this.url} refused ${what}: ${refusal(error)}`,
          status === 401 || status === 403
            ? 'fedctl\'s account must be a user of the store with the rules it needs (the Store Manager or Root store role); on 4.x the store must have whitelisted the server (link it first)'
            : 'the store\'s log says more', { cause: error });
      }
      if (error instanceof RequestError) {
        throw new FedctlError('STORE_UNREACHABLE', `cannot reach algorithm store ${this.url} (${what}): ${refusal(error)}`, 'check the store\'s URL and that it runs', { cause: error });
      }
      throw error;
    }
  }
}
