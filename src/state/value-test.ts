import { idna2003Ascii } from '../email-domain.js';

/**
 * A check a component makes of a value it is given, as plain data: the
 * planner runs it, so that what the component would refuse is refused in the
 * plan, before anything is changed. Each says how the component counts and
 * matches, so that the plan refuses exactly what the component does.
 */
export type ValueTest =
  /** A length: in code points (Python's `len`) or UTF-16 units (Java's `String.length`), after Java's `trim` when `trim`. */
  | { readonly test: 'length'; readonly min?: number; readonly max?: number; readonly unit: 'code point' | 'utf-16'; readonly trim: boolean }
  /** A regular expression (JavaScript's, `u` flag) the whole value must match (`mismatch` refused), or must not (`match` refused). */
  | { readonly test: 'pattern'; readonly pattern: string; readonly refuse: 'match' | 'mismatch' }
  /**
   * An e-mail address as Keycloak checks one: a dot-atom or quoted local part
   * of at most `maxLocalLength` UTF-16 units (in ASCII only where
   * `asciiLocalPart`), and a domain IDNA 2003 takes, or an IP literal.
   */
  | { readonly test: 'email'; readonly maxLocalLength: number; readonly asciiLocalPart: boolean };

const ATOM = "[a-z0-9!#$%&'*+/=?^_`{|}~\\u0080-\\uffff-]";
const QUOTED = "(?:[a-z0-9!#$%&'*.(),<>\\[\\]:;  @+/=?^_`{|}~\\u0080-\\uffff-]|\\\\\\\\|\\\\\")";
const LOCAL_WORD = `(?:${ATOM}+|"${QUOTED}+")`;
const LOCAL_PART = new RegExp(`^${LOCAL_WORD}(?:\\.${LOCAL_WORD})*$`, 'iu');
const DOMAIN_CHAR = "[a-z0-9!#$%&'*+/=?^`{|}~]";
const DOMAIN_LABEL = `(?:${DOMAIN_CHAR}-*)*${DOMAIN_CHAR}+`;
const HEX = '[0-9a-f]{1,4}';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[\\d{1,3}(?:\\.\\d{1,3}){3}\\]|\\[IPv6:[0-9a-f:.%]*${HEX}[0-9a-f:.%]*\\])$`, 'i');
const MAX_DOMAIN = 255;

/** Java's `String.trim`: every character up to U+0020 off both ends. */
const javaTrim = (value: string): string => value.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '');

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern, 'u');
    patterns.set(pattern, regex);
  }
  return regex;
}

function validEmail(value: string, maxLocalLength: number, asciiLocalPart: boolean): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > maxLocalLength || !LOCAL_PART.test(local)) return false;
  if (asciiLocalPart && /[^\x00-\x7f]/.test(local)) return false;
  if (domain.endsWith('.')) return false;
  const ascii = domain.startsWith('[') ? domain : idna2003Ascii(domain);
  return ascii !== null && ascii.length <= MAX_DOMAIN && DOMAIN.test(ascii);
}

/** Whether the component refuses `value`. An empty value is never refused: components skip it (the field is left empty). */
export function refusesValue(test: ValueTest, value: string): boolean {
  if (value === '') return false;
  switch (test.test) {
    case 'length': {
      const counted = test.trim ? javaTrim(value) : value;
      const length = test.unit === 'code point' ? [...counted].length : counted.length;
      return (test.min !== undefined && length < test.min) || (test.max !== undefined && length > test.max);
    }
    case 'pattern':
      return compiled(test.pattern).test(value) === (test.refuse === 'match');
    case 'email':
      return !validEmail(value, test.maxLocalLength, test.asciiLocalPart);
  }
}
