import { Schema, Type } from 'js-yaml-4';

/**
 * YAML 1.2's core schema for js-yaml 4, read as the precise parser reads it:
 * js-yaml 4's own also takes `0b101`, `1_000` and `0o` in other places.
 * Only plain scalars are resolved: the types carry fedctl's own tag names,
 * so an explicit tag (`!!int 3`, `!!str x`) is one js-yaml does not know and
 * the text goes to the precise parser, which reads tags exactly.
 */
function plain(name: string, test: RegExp, construct: (text: string) => unknown): Type {
  return new Type(`tag:fedctl:core:${name}`, {
    kind: 'scalar',
    resolve: (data) => test.test(data ?? ''),
    construct: (data) => construct(data ?? ''),
  });
}

export const CORE_SCHEMA = new Schema({
  implicit: [
    plain('null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
    plain('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === 't' || text[0] === 'T'),
    plain('octal', /^0o[0-7]+$/, (text) => parseInt(text.slice(2), 8)),
    plain('int', /^[-+]?[0-9]+$/, (text) => parseInt(text, 10)),
    plain('hex', /^0x[0-9a-fA-F]+$/, (text) => parseInt(text.slice(2), 16)),
    plain('special float', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
      (text) => (text.slice(-3).toLowerCase() === 'nan' ? NaN : text[0] === '-' ? -Infinity : Infinity)),
    plain('float', /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/, (text) => parseFloat(text)),
  ],
  explicit: [],
});
