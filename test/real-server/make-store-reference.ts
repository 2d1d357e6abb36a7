/**
 * `node --import tsx test/real-server/make-store-reference.ts X.Y.Z`: the
 * reference data of an algorithm store release, as its own first start
 * (beside a server of its line: a 4.x server, or HQ with its Keycloak) makes
 * it and its API lists it to its root user: `rules.json` and
 * `default_roles.json` in `reference/algorithm-store-X.Y/`. A maintainer's
 * tool; `notes.md` is written by hand beside the data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listStoreReference, storeReferenceDir, withStoreRoot } from './store-reference.js';

const [release] = process.argv.slice(2);
if (!release || !/^[45]\.\d+\.\d+$/.test(release)) throw new Error('usage: make-store-reference.ts X.Y.Z');
const work = mkdtempSync(path.join(os.tmpdir(), 'fedctl-store-reference-'));
try {
  const reference = await withStoreRoot(release, work, listStoreReference);
  const out = storeReferenceDir(release);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'rules.json'), `${JSON.stringify(reference.rules, null, 2)}\n`);
  writeFileSync(path.join(out, 'default_roles.json'), `${JSON.stringify(reference.defaultRoles, null, 2)}\n`);
  process.stdout.write(`${out}: ${reference.rules.length} rules, ${reference.defaultRoles.length} built-in roles\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
