import { readFileSync } from 'node:fs';

/** fedctl's own version, from its package.json: printed by --version and kept in every recorded apply. */
export const FEDCTL_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
