/** Talking to a real vantage6 server as its users and nodes do: log in, then ask. */

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export async function call(api: string, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, text: await response.text() };
}

/** A token, or a way to get a fresh one (Keycloak's live minutes; a test may take longer). */
export type TokenSource = string | (() => Promise<string>);

/** A logged-in user or node. */
export class ServerSession {
  constructor(readonly api: string, private readonly token: TokenSource, readonly id: number | null) {}

  /** The session's token, as a client sends it to HQ, a server or a store that checks it there. */
  async bearer(): Promise<string> {
    return typeof this.token === 'string' ? this.token : this.token();
  }

  /** 4.x: `POST /token/user`; a refusal (with the server's message) when the server refuses the login. */
  static async user(api: string, username: string, password: string): Promise<ServerSession | { refusal: string }> {
    const { status, text } = await call(api, 'POST', '/token/user', null, { username, password });
    if (status !== 200) return { refusal: `HTTP ${status} ${text.slice(0, 300)}` };
    const body = JSON.parse(text) as { access_token: string; user_url?: string };
    return new ServerSession(api, body.access_token, body.user_url === undefined ? null : Number(body.user_url.split('/').pop()));
  }

  /** 4.x: `POST /token/node`; a refusal when the key is not recognised. */
  static async node(api: string, apiKey: string): Promise<ServerSession | { refusal: string }> {
    const { status, text } = await call(api, 'POST', '/token/node', null, { api_key: apiKey });
    if (status !== 200) return { refusal: `HTTP ${status} ${text.slice(0, 300)}` };
    const body = JSON.parse(text) as { access_token: string; node_url?: string };
    return new ServerSession(api, body.access_token, body.node_url === undefined ? null : Number(body.node_url.split('/').pop()));
  }

  /** Every item of a list endpoint, page by page; null when the server refuses the list (401/403). */
  async list<T>(path: string): Promise<T[] | null> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
      const separator = path.includes('?') ? '&' : '?';
      const { status, text } = await call(this.api, 'GET', `${path}${separator}page=${page}&per_page=500`, await this.bearer());
      if (status === 401 || status === 403) return null;
      if (status !== 200) throw new ApiError(status, text, `GET ${path}`);
      const body = JSON.parse(text) as { data: T[]; links?: { next?: string } } | T[];
      const data = Array.isArray(body) ? body : body.data;
      items.push(...data);
      if (Array.isArray(body) || !body.links?.next || data.length === 0) return items;
    }
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const { status, text } = await call(this.api, method, path, await this.bearer(), body);
    if (status < 200 || status >= 300) throw new ApiError(status, text, `${method} ${path}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  }
}

export function isSession(value: ServerSession | { refusal: string }): value is ServerSession {
  return value instanceof ServerSession;
}

/** A refused login, with what the server (or Keycloak) said. */
export interface Refusal {
  readonly refusal: string;
}

/** How a server's users and nodes log in: the 4.x server's own token endpoints, or Keycloak for HQ. */
export interface ServerLogin {
  /** The API's base URL. */
  readonly api: string;
  user(username: string, password: string): Promise<ServerSession | Refusal>;
  /** A node by its name and the key (4.x) or client secret (HQ) fedctl recorded. */
  node(name: string, key: string): Promise<ServerSession | Refusal>;
  /** The server's own administrator, made at its first start, who sees everything. */
  admin(): Promise<ServerSession>;
}

/** A 4.x server: users and nodes log in at its own endpoints; its first start made root with password root. */
export function v4Login(api: string): ServerLogin {
  return {
    api,
    user: (username, password) => ServerSession.user(api, username, password),
    node: (_name, key) => ServerSession.node(api, key),
    async admin() {
      const root = await ServerSession.user(api, 'root', 'root');
      if (!isSession(root)) throw new Error(`root logs in to ${api}: ${root.refusal}`);
      return root;
    },
  };
}
