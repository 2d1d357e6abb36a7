import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isProcessRunning } from '../process-running.js';

/**
 * Replace a file atomically: write a temporary file (mode 0600) beside it,
 * fsync, rename over the old one, fsync the folder. Readers see the old or
 * the new file, never a part; after a crash the new one is on disk.
 */
export async function replaceAtomically(file: string, text: string): Promise<void> {
  const target = path.resolve(file);
  const folder = path.dirname(target);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temporary = path.join(folder, `.${path.basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** `.NAME.PID-RANDOM.tmp` as `replaceAtomically` names it; without `PID-` as fedctl 0.1 named it. */
const TEMPORARY = /^\.(.+)\.(?:(\d+)-)?[0-9a-f]{12}\.tmp$/;

/**
 * Remove the temporary files that a killed `replaceAtomically` left in a
 * folder (of the files named `only`, when given): those of a process that no
 * longer runs. They hold nothing that is needed: the write they belong to
 * never completed, so its apply was never committed.
 */
export async function removeAbandonedTemporaries(folder: string, only?: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  await Promise.all(names.map(async (name) => {
    const match = TEMPORARY.exec(name);
    if (match === null || (only !== undefined && match[1] !== only)) return;
    if (match[2] !== undefined && isProcessRunning(Number(match[2]))) return;
    await unlink(path.join(folder, name)).catch(() => undefined);
  }));
}

/** A file's exact text, or null when there is none. */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Put a file back as a snapshot had it: the same text, or no file. */
export async function restoreFile(file: string, snapshot: string | null): Promise<void> {
  if (snapshot === null) await unlink(file).catch(() => undefined);
  else await replaceAtomically(file, snapshot);
}
