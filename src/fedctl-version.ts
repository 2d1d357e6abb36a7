import { readFileSync } from 'node:fs';
import { packageFile } from './package-files.js';

/** fedctl's own version, from its package.json: printed by --version and kept in every recorded apply. */
export const FEDCTL_VERSION = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
