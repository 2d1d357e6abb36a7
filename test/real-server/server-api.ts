/** Talking to a real vantage6 4.x server as its users and nodes do: log in, then ask. */

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

async function call(api: string, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, text: await response.text() };
}

/** A logged-in user or node. */
export class ServerSession {
  constructor(readonly api: string, readonly token: string, readonly id: number | null) {}

  /** `POST /token/user`; null when the server refuses the login (with its message in `refusal`). */
  static async user(api: string, username: string, password: string): Promise<ServerSession | { refusal: string }> {
    const { status, text } = await call(api, 'POST', '/token/user', null, { username, password });
    if (status !== 200) return { refusal: `HTTP ${status} ${text.slice(0, 300)}` };
    const body = JSON.parse(text) as { access_token: string; user_url?: string };
    return new ServerSession(api, body.access_token, body.user_url === undefined ? null : Number(body.user_url.split('/').pop()));
  }

  /** `POST /token/node`; a refusal when the key is not recognised. */
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
      const { status, text } = await call(this.api, 'GET', `${path}${separator}page=${page}&per_page=500`, this.token);
      if (status === 401 || status === 403) return null;
      if (status !== 200) throw new ApiError(status, text, `GET ${path}`);
      const body = JSON.parse(text) as { data: T[]; links?: { next?: string } } | T[];
      const data = Array.isArray(body) ? body : body.data;
      items.push(...data);
      if (Array.isArray(body) || !body.links?.next || data.length === 0) return items;
    }
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const { status, text } = await call(this.api, method, path, this.token, body);
    if (status < 200 || status >= 300) throw new ApiError(status, text, `${method} ${path}`);
    return (text === '' ? null : JSON.parse(text)) as T;
  }
}

export function isSession(value: ServerSession | { refusal: string }): value is ServerSession {
  return value instanceof ServerSession;
}
