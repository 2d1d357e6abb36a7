import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { writeJsonWithList } from '../../src/cli/json-output.js';

async function written(fields: Record<string, unknown>, key: string, items: unknown[]): Promise<string> {
  let text = '';
  await writeJsonWithList({ write: (chunk: string) => { text += chunk; return true; } }, fields, key, items);
  return text;
}

describe('JSON written item by item', () => {
  it('is exactly what JSON.stringify gives, for any list', async () => {
    const items = [
      { username: 'zoë "z" \\ 東京', on: ['organization "Charité & Co"', 'collaboration "🏥"'], nested: { a: [1, 2, []], b: {} } },
      { username: 'مستشفى', on: [], n: null },
    ];
    for (const [fields, list] of [[{ formatVersion: 1, source: 'sqlite:///f.sqlite', on: null }, items], [{ formatVersion: 1 }, []], [{}, items], [{}, []]] as const) {
      assert.equal(await written(fields, 'users', [...list]), `${JSON.stringify({ ...fields, users: list }, null, 2)}\n`);
    }
  });

  it('waits while the reader is behind', async () => {
    const chunks: string[] = [];
    const stream = Object.assign(new EventEmitter(), {
      // Full after every write, drained a moment later.
      write: (chunk: string) => { chunks.push(chunk); setImmediate(() => stream.emit('drain')); return false; },
    });
    let pending = 0;
    stream.on('newListener', (event) => { if (event === 'drain') pending++; });
    await writeJsonWithList(stream, { formatVersion: 1 }, 'users', [{ a: 1 }, { b: 2 }]);
    assert.equal(pending, chunks.length);
    assert.deepEqual(JSON.parse(chunks.join('')), { formatVersion: 1, users: [{ a: 1 }, { b: 2 }] });
  });
});
