// Build step: bundle the command into dist/bundle/. Node loads one file per
// module, and fedctl's dependencies are hundreds of small modules (Kysely alone
// takes about 90 ms to load that way, 12 ms bundled): a plan starts about a
// tenth of a second sooner. Each command's code stays a separate chunk, loaded
// only when that command runs.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('../dist/bundle/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    fedctl: new URL('../src/cli/main.ts', import.meta.url).pathname,
    // Started by path as a worker thread, beside the chunk that starts it.
    'hash-worker': new URL('../src/apply/hash-worker.ts', import.meta.url).pathname,
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addons load their compiled binaries by path; pg-native is pg's optional native driver, not installed.
  external: ['better-sqlite3', 'bcrypt', 'pg-native'],
  // Bundled CommonJS packages call require() for Node's own modules.
  banner: { js: 'import { createRequire as fedctlCreateRequire } from "node:module"; const require = fedctlCreateRequire(import.meta.url);' },
  sourcemap: 'linked',
  logLevel: 'warning',
});
