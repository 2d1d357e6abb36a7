import { load, type NodeState } from 'js-yaml-4';
import { CORE_SCHEMA } from './core-schema.js';

/** A document read on the fast path: its value, and whether it has anchors (their aliases' expansion must be judged). */
export interface FastDocument {
  readonly value: unknown;
  readonly anchors: boolean;
}

/**
 * Why a text is left to the precise parser: js-yaml refused it (the precise
 * parser then reports every problem with its place: syntax errors, several
 * documents, explicit tags, which this reader does not know), or it uses what
 * the two parsers read differently (the `!` tag, a `%YAML` directive, an
 * anchor name that runs into a bracket or comma, a null key, a key that is
 * not a scalar, a document that is a scalar or whose root is indented).
 */
export type NotForFastPath = {
  readonly reason: 'refused' | 'tags' | 'directives' | 'anchors' | 'null key' | 'complex key' | 'scalar document' | 'indented root';
};

const HASH = 0x23;
const COLON = 0x3a;
const QUESTION = 0x3f;
const OPEN_BRACE = 0x7b;

/** What ends a quoted scalar or a flow collection. */
const CLOSERS: ReadonlySet<string> = new Set(['"', "'", ']', '}']);

/**
 * An anchor that ends its line and a property that starts the next: js-yaml
 * may give one node both anchors, YAML allows one (and reads `&a` then `&b x: 1`
 * as two nodes). Rare enough to leave to the precise parser either way.
 */
const PROPERTY_AFTER_ANCHOR_LINE = /&\S+[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[&!]/;

/**
 * An anchor name that js-yaml ends at a flow indicator and the precise parser
 * (outside flow collections) does not. An alias name so ended is an error to both.
 */
const NAME_INTO_FLOW_INDICATOR = /&([^\s,[\]{}]+)[,[\]{}]/g;

const isCollection = (value: unknown): value is object => typeof value === 'object' && value !== null;

const hasNullKey = (item: unknown): boolean => isCollection(item) && Object.hasOwn(item, 'null');

/** Offset of the first character at or after `at` that is not blank, a line break or in a comment. */
function skipBlank(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === HASH) {
      const end = text.indexOf('\n', i);
      if (end === -1) return text.length;
      i = end + 1;
    } else return i;
  }
}

/** The column the document's root starts at, after blanks, comments and a `---`. */
function rootColumn(text: string): number {
  let start = skipBlank(text, 0);
  if (text.startsWith('---', start)) start = skipBlank(text, start + 3);
  return start - (text.lastIndexOf('\n', start - 1) + 1);
}

/** Where the `{` is when the node that starts at `at` (after blanks and its anchor or tag) is a flow mapping; else -1. */
function flowMappingBrace(text: string, at: number): number {
  let i = skipBlank(text, at);
  while (text[i] === '&' || text[i] === '!') {
    while (i < text.length && !/\s/.test(text[i] as string)) i++;
    i = skipBlank(text, i);
  }
  return text.charCodeAt(i) === OPEN_BRACE ? i : -1;
}

/**
 * Read one YAML document with js-yaml 4's loader, straight to the value,
 * whatever characters names and comments hold. A listener watches each node,
 * for what the two parsers read differently.
 */
export function readYamlFast(text: string, file: string): FastDocument | NotForFastPath {
  let reason: NotForFastPath['reason'] | null = null;
  const anchors = new Set<string>();
  // Per open node (by depth): where it was opened; where its `{` is when it is a flow mapping (else -1),
  // and whether its next child is a value (after a key and `:`).
  const openedAt: number[] = [];
  const brace: number[] = [];
  const valueNext: boolean[] = [];
  let depth = 0;
  const listener = (event: 'open' | 'close', state: NodeState): void => {
    if (event === 'open') {
      depth++;
      openedAt[depth] = state.position;
      brace[depth] = flowMappingBrace(text, state.position);
      valueNext[depth] = false;
      // An explicit key (`? key`): js-yaml turns a collection there into text its own way.
      if (text.charCodeAt(state.position - 1) === QUESTION) reason ??= 'complex key';
      return;
    }
    const opened = openedAt[depth] as number;
    depth--;
    // An entry of a flow mapping; js-yaml also tries a node as the first key of a block mapping, opening it again where it is.
    const parentBrace = depth > 0 ? (brace[depth] as number) : -1;
    const inFlowMapping = parentBrace >= 0 && opened > parentBrace;
    const collection = isCollection(state.result);
    if (collection || inFlowMapping) {
      const colonNext = text.charCodeAt(skipBlank(text, state.position)) === COLON;
      // A collection as a key, as in `[a]: b` or `{[a]}`: js-yaml makes text of it its own way.
      if (collection && (colonNext || (inFlowMapping && !valueNext[depth]))) reason ??= 'complex key';
      if (inFlowMapping) valueNext[depth] = !valueNext[depth] && colonNext;
    }
    // A comment right after a quoted scalar or a flow collection: js-yaml takes it, YAML does not.
    if (text.charCodeAt(state.position) === HASH && CLOSERS.has(text.charAt(state.position - 1))) reason ??= 'refused';
    else if (state.tag === '!') reason ??= 'tags';
    else if (state.version !== null) reason ??= 'directives';
    // js-yaml names a null key "null", the precise parser "": a key "null" sends the text there, quoted or not.
    else if (state.kind === 'mapping' && hasNullKey(state.result)) reason ??= 'null key';
    // ... also in the one-pair mappings of a flow sequence (`[a: b]`), which are not nodes of their own.
    else if (state.kind === 'sequence' && (state.result as unknown[]).some(hasNullKey)) reason ??= 'null key';
    if (state.anchor !== null) anchors.add(state.anchor);
  };
  let value: unknown;
  try {
    value = load(text, { filename: file, schema: CORE_SCHEMA, listener });
  } catch {
    return { reason: 'refused' };
  }
  if (reason !== null) return { reason };
  // A config is a mapping; a document that is one scalar is an error either way. js-yaml reads an indented
  // block scalar at the root (` |` then `#`) differently, so such documents are the precise parser's to report.
  if (value !== null && value !== undefined && !isCollection(value)) return { reason: 'scalar document' };
  // js-yaml also lets an indented root be followed by lines less indented (` -` then `-`); YAML refuses them.
  if (rootColumn(text) > 0) return { reason: 'indented root' };
  if (anchors.size > 0) {
    if (PROPERTY_AFTER_ANCHOR_LINE.test(text)) return { reason: 'anchors' };
    for (const match of text.matchAll(NAME_INTO_FLOW_INDICATOR)) {
      if (anchors.has(match[1] as string)) return { reason: 'anchors' };
    }
  }
  return { value, anchors: anchors.size > 0 };
}
