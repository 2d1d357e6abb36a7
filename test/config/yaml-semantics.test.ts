import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText, parseConfigTextPrecisely } from '../../src/config/load-config.js';

/** What each path makes of a text: the value, or that it refused it. */
function both(text: string): { fast: unknown; precise: unknown } {
  const fast = parseConfigText('x.yaml', text);
  const precise = parseConfigTextPrecisely('x.yaml', text);
  const outcome = (r: typeof fast): unknown => (r.document ? { value: r.document.value } : { refused: true });
  return { fast: outcome(fast), precise: outcome(precise) };
}

const EDGE_CASES = [
  'a: yes\nb: no\nc: on\nd: off\ne: True\nf: FALSE\ng: y\n',
  'a: ~\nb: null\nc: Null\nd:\ne: NULL\n',
  'a: 0o17\nb: 0x1F\nc: 1e3\nd: .inf\ne: -.Inf\nf: 012\ng: +1\nh: 1_000\ni: 0b101\nj: 1.\nk: -0\n',
  'a: .nan\n',
  'when: 2001-12-14\nt: 2001-12-14t21:59:43.10-05:00\n',
  'a: "x: y"\nb: \'it\'\'s\'\nc: "\\u00e9\\t\\n"\nd: plain # comment\n',
  'a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n',
  'a: [1, "2", three, {b: c}]\nd: {e: [f]}\n',
  'base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n',
  '<<: {x: 1}\n',
  'a: !!str 1\nb: !!int "3"\nc: !!float 2\n',
  'a: !!binary aGVsbG8=\n',
  'a: !custom x\n',
  'a: 1\na: 2\n',
  'a:\n\t- tab\n',
  '--- \na: 1\n--- \nb: 2\n',
  '---\na: 1\n...\n',
  '...\na',
  'a: 1\n...\nb: 2\n',
  '',
  '# only a comment\n',
  'just a string\n',
  '- a\n- b\n',
  '? complex\n: key\n',
  '"quoted key": 1\n\'single\': 2\n',
  'a: 1 # trailing\n#comment\nb: 2\n',
  'a: "unterminated\n',
  'a: [1, 2\n',
  'key with spaces: value with: colon\n',
  'a: 00\nb: 09\nc: 0.5e-3\nd: 1e\n',
  'emoji: 🏥\nzw: "a\\u200bb"\n',
  'a: &anchor 1\nb: *anchor\n',
  '%YAML 1.2\n---\na: 1\n',
  '%YAML 1.1\n---\na: yes\n',
];

describe('one YAML semantics for the fast and the precise parser', () => {
  for (const text of EDGE_CASES) {
    it(`agree on ${JSON.stringify(text).slice(0, 60)}`, () => {
      const { fast, precise } = both(text);
      assert.deepEqual(fast, precise);
    });
  }

  it('agree on any value written as YAML, in block and flow style', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.boolean(), (value, flow) => {
      const text = stringify(value, flow ? { collectionStyle: 'flow' } : {}) ?? '';
      const { fast, precise } = both(text);
      assert.deepEqual(fast, precise);
    }), { numRuns: 500 });
  });

  it('agree on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'ab: -[]{},"\'#&*!|>\n\t0.~?%@`yes'.split('')), maxLength: 40 }), (text) => {
      const { fast, precise } = both(text);
      assert.deepEqual(fast, precise);
    }), { numRuns: 10000 });
  });
});
