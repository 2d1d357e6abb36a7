import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import bcryptjs from 'bcryptjs';
import bcrypt from 'bcrypt';
import { bcryptHash } from '../../src/apply/bcrypt-hash.js';
import { hashSecrets } from '../../src/apply/hash-pool.js';
import { assertPythonBcryptVerifies } from '../helpers/python-bcrypt.js';

/** Secrets as fedctl makes or reads them: uuid4 keys, generated passwords, and people's own passwords. */
const SECRETS = [
  'c0a8f6f4-3b1e-4d2a-9c57-0f3e7b8a1d22',
  'q7#Vx9+Lm2@Tz4!Rk8_Hn3~P',
  'Pässwörd mit Ümläuten & "Zitat"',
  '密码🔑مرحبا\\ 100% sûr!',
  'x'.repeat(80),
  '😀'.repeat(20),
];

describe('bcrypt', () => {
  it('writes $2b$ hashes that the old implementation and Python\'s bcrypt verify', async () => {
    const hashes = SECRETS.map((secret) => bcryptHash(secret, 4));
    for (const [i, hash] of hashes.entries()) {
      assert.match(hash, /^\$2b\$04\$[./A-Za-z0-9]{53}$/);
      assert.ok(bcryptjs.compareSync(SECRETS[i] as string, hash), `bcryptjs verifies ${SECRETS[i]}`);
      assert.ok(!bcryptjs.compareSync('another secret', hash));
    }
    // bcrypt reads at most 72 bytes (these secrets are cut there on a character boundary); so does Python.
    const first72 = (secret: string): string => Buffer.from(secret).subarray(0, 72).toString('utf8');
    assertPythonBcryptVerifies(SECRETS.map((secret, i) => [first72(secret), hashes[i] as string] as const));
  });

  it('the new implementation verifies hashes the old one and Python wrote, $2a$ and $2b$', () => {
    for (const secret of SECRETS) {
      const old = bcryptjs.hashSync(secret, 4);
      assert.ok(bcrypt.compareSync(secret, old));
      assert.ok(bcrypt.compareSync(secret, old.replace('$2b$', '$2a$')));
      assert.ok(!bcrypt.compareSync('another secret', old));
    }
    let python: string;
    try {
      python = execFileSync('/usr/bin/python3', ['-c', 'import bcrypt; print(bcrypt.hashpw("Pässwörd-42 🔑".encode(), bcrypt.gensalt(4)).decode())']).toString().trim();
    } catch {
      if (process.env.FEDCTL_REQUIRE_PYTHON_BCRYPT) assert.fail('Python bcrypt is required (FEDCTL_REQUIRE_PYTHON_BCRYPT) but not importable');
      return;
    }
    assert.ok(bcrypt.compareSync('Pässwörd-42 🔑', python));
  });

  it('hashes on worker threads give the same kind of hash', async () => {
    const secrets = Array.from({ length: 24 }, (_, i) => `secret-${i}-é🙂`);
    const hashes = await hashSecrets(secrets, 8, { workers: 2 });
    assert.equal(new Set(hashes).size, secrets.length);
    for (const [i, hash] of hashes.entries()) assert.ok(bcryptjs.compareSync(secrets[i] as string, hash));
  });
});
