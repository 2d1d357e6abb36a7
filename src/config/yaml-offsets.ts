import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { DocumentPath } from '../diagnostic.js';

/** Offset of the node at a path (or of its mapping key), or of the nearest ancestor that exists. */
export type OffsetOf = (path: DocumentPath, key: boolean) => number;

/**
 * Where every path of a document is, from js-yaml 5's events (which carry
 * each node's source offset), counted as the precise parser counts them.
 * Needed only to report a problem: built on the first question.
 */
export function offsetFinder(text: string, file: string): OffsetOf {
  let offsets: Map<string, { value: number; key: number }> | undefined;
  return (path, key) => {
    offsets ??= indexOffsets(parseEvents(text, { filename: file }), text);
    for (let length = path.length; length >= 0; length--) {
      const found = offsets.get(JSON.stringify(path.slice(0, length)));
      if (found) return key && length === path.length && found.key !== -1 ? found.key : found.value;
    }
    return 0;
  };
}

/**
 * Where a node starts, as the precise parser counts it: a quoted scalar at
 * its quote, a block scalar at its `|` or `>`, an alias at its `*`.
 */
function nodeOffset(event: Event, text: string): number {
  switch (event.type) {
    case EVENT_ID.SCALAR: {
      if (event.style === 2 || event.style === 3) return event.valueStart - 1;
      if (event.style === 4 || event.style === 5) {
        const lineStart = text.lastIndexOf('\n', event.valueStart - 2) + 1;
        const header = /[|>][0-9+-]*[ \t]*(#.*)?$/.exec(text.slice(lineStart, event.valueStart - 1));
        return header ? lineStart + header.index : event.valueStart;
      }
      return event.valueStart;
    }
    case EVENT_ID.ALIAS:
      return event.anchorStart - 1;
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return event.start;
    default:
      return 0;
  }
}

interface Frame {
  readonly kind: 'mapping' | 'sequence' | 'document';
  readonly path: DocumentPath;
  index: number;
  /** In a mapping: the key just read, waiting for its value. */
  key: { readonly name: string; readonly offset: number } | null;
}

/** Every path of the document with the offsets of its node and (in a mapping) its key. */
function indexOffsets(events: readonly Event[], text: string): Map<string, { value: number; key: number }> {
  const offsets = new Map<string, { value: number; key: number }>();
  const stack: Frame[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) {
      stack.push({ kind: 'document', path: [], index: 0, key: null });
      continue;
    }
    if (event.type === EVENT_ID.POP) {
      stack.pop();
      continue;
    }
    const frame = stack[stack.length - 1];
    if (!frame) continue;
    const offset = nodeOffset(event, text);
    if (frame.kind === 'mapping' && frame.key === null) {
      // A key: configs only have scalar keys; any other kind cannot be named by a path.
      const name = event.type === EVENT_ID.SCALAR ? getScalarValue(text, event) : '\u0000';
      frame.key = { name, offset };
      if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence', path: ['\u0000'], index: 0, key: null });
      continue;
    }
    let path: DocumentPath;
    let keyOffset = -1;
    if (frame.kind === 'mapping' && frame.key !== null) {
      path = [...frame.path, frame.key.name];
      keyOffset = frame.key.offset;
      frame.key = null;
    } else if (frame.kind === 'sequence') {
      path = [...frame.path, frame.index++];
    } else {
      path = frame.path;
    }
    offsets.set(JSON.stringify(path), { value: offset, key: keyOffset });
    if (event.type === EVENT_ID.MAPPING) stack.push({ kind: 'mapping', path, index: 0, key: null });
    if (event.type === EVENT_ID.SEQUENCE) stack.push({ kind: 'sequence', path, index: 0, key: null });
  }
  return offsets;
}
