import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Replace a file atomically: write a temporary file (mode 0600) beside it,
 * fsync, rename over the old one, fsync the folder. Readers see the old or
 * the new file, never a part; after a crash the new one is on disk.
 */
export async function replaceAtomically(file: string, text: string): Promise<void> {
  const target = path.resolve(file);
  const folder = path.dirname(target);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temporary = path.join(folder, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
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
