import { existsSync } from 'node:fs';

/**
 * The package's root: the nearest folder above this module with a
 * package.json. The code runs from src/ (tests), or bundled into dist/bundle/
 * (the command), so a fixed `../..` from a module would be right only in one.
 */
function findPackageRoot(): URL {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    if (existsSync(new URL('package.json', dir))) return dir;
    if (dir.pathname === '/') throw new Error(`fedctl's package.json not found above ${import.meta.url}`);
  }
}

const PACKAGE_ROOT = findPackageRoot();

/** The code runs from src/ through tsx (the tests), not from the built bundle: this module is then a .ts file. */
export const RUNS_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A file fedctl ships beside its code (package.json, schemas/, reference/, dist/), by its path in the package. */
export function packageFile(relativePath: string): URL {
  return new URL(relativePath, PACKAGE_ROOT);
}
