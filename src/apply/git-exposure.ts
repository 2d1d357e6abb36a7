import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Whether a file lies in a git work tree without being ignored, so that a
 * `git add .` would commit it. False when git is not installed or the folder
 * is no work tree.
 */
export async function isExposedToGit(file: string): Promise<boolean> {
  const folder = path.dirname(path.resolve(file));
  try {
    const { stdout } = await run('git', ['-C', folder, 'rev-parse', '--is-inside-work-tree']);
    if (stdout.trim() !== 'true') return false;
  } catch {
    return false;
  }
  try {
    // Exit 0: ignored; exit 1: not ignored.
    await run('git', ['-C', folder, 'check-ignore', '-q', path.resolve(file)]);
    return false;
  } catch (error) {
    return (error as { code?: number }).code === 1;
  }
}
