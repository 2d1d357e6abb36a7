import { HTTPError, type Got } from 'got';
import { messageOf } from '../../errors.js';

/** Items per page: vantage6's APIs (servers and stores) have no maximum, so requests grow with pages of this size, never with entities. */
const PER_PAGE = 1000;

/** Every item of a vantage6 list endpoint (`{ data: [...] }`), page by page, until a page comes back short. */
export function listAllPages<T>(http: Got, path: string, searchParams: Readonly<Record<string, string | number>>): Promise<T[]> {
  return http.paginate.all<T, { data: T[] }>(path, {
    searchParams: { ...searchParams, per_page: PER_PAGE, page: 1 },
    pagination: {
      transform: (response) => response.body.data,
      paginate: ({ response, currentItems }) => {
        if (currentItems.length < PER_PAGE) return false;
        const page = Number(new URL(response.url).searchParams.get('page') ?? '1');
        return { searchParams: { ...searchParams, per_page: PER_PAGE, page: page + 1 } };
      },
    },
  });
}

/** What a vantage6 server or store said when it refused a request: its `msg` (and `errors`), else the status. */
export function refusal(error: unknown): string {
  if (error instanceof HTTPError) {
    const body = error.response.body as { msg?: unknown; errors?: unknown } | string | undefined;
    const message = typeof body === 'object' && body !== null && typeof body.msg === 'string' ? body.msg : `HTTP ${error.response.statusCode}`;
    const details = typeof body === 'object' && body !== null && body.errors !== undefined ? ` ${JSON.stringify(body.errors)}` : '';
    return `${message}${details}`;
  }
  return messageOf(error).split('\n')[0] ?? 'unknown error';
}
