import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

function pythonWithBcrypt(): string | null {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import bcrypt'], { stdio: 'ignore' });
    return '/usr/bin/python3';
  } catch {
    return null;
  }
}

/**
 * Check (plaintext, hash) pairs with Python's bcrypt, the library vantage6
 * verifies with. Skipped with a message where it is not installed, unless
 * FEDCTL_REQUIRE_PYTHON_BCRYPT (CI) makes that a failure.
 */
export function assertPythonBcryptVerifies(pairs: readonly (readonly [string, string])[]): void {
  const python = pythonWithBcrypt();
  if (python === null) {
    if (process.env.FEDCTL_REQUIRE_PYTHON_BCRYPT) assert.fail('Python bcrypt is required (FEDCTL_REQUIRE_PYTHON_BCRYPT) but not importable');
    process.stderr.write('*** Python bcrypt not importable: the check with the bcrypt vantage6 uses is SKIPPED ***\n');
    return;
  }
  const script = 'import bcrypt, json, sys\nfor p, h in json.load(sys.stdin): assert bcrypt.checkpw(p.encode(), h.encode()), h\nprint("ok")';
  assert.equal(execFileSync(python, ['-c', script], { input: JSON.stringify(pairs) }).toString().trim(), 'ok');
}
