import { CORE_SCHEMA, EVENT_ID, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { DocumentPath } from './diagnostic.js';

/** A document read from js-yaml's event stream: its value, and the source offset of every path in it. */
export interface EventDocument {
  readonly value: unknown;
  /** Offset of the node at `path` (or of its mapping key), or of the nearest ancestor that exists. */
  offsetOf(path: DocumentPath, key: boolean): number;
}

/**
 * Why a text is left to the precise parser: js-yaml refused it (the precise
 * parser then reports every problem with its place), or it uses what the two
 * parsers read differently (explicit tags, directives, several documents,
 * an anchor name that runs into a bracket or comma).
 */
export type NotForEvents = { readonly reason: 'refused' | 'tags' | 'directives' | 'documents' | 'anchors' };

const FLOW_INDICATORS: ReadonlySet<string> = new Set([',', '[', ']', '{', '}']);

/**
 * Read one YAML document with js-yaml's parser: one pass to events, which
 * carry every node's source offset, then the value built from the same
 * events. Names and comments may hold any character; anchors and aliases are
 * read here too (their expansion is judged by the caller).
 */
export function readYamlEvents(text: string, file: string): EventDocument | NotForEvents {
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file });
  } catch {
    return { reason: 'refused' };
  }
  let documents = 0;
  // Whether each open collection is in flow style (`[…]`, `{…}`).
  const flow: boolean[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) {
      documents++;
      if (event.directives.length > 0) return { reason: 'directives' };
      flow.push(false);
      continue;
    }
    if (event.type === EVENT_ID.POP) {
      flow.pop();
      continue;
    }
    if ('tagStart' in event && event.tagStart !== -1) return { reason: 'tags' };
    // js-yaml ends an anchor or alias name at a flow indicator; the precise parser does so only inside flow collections.
    if (event.anchorStart !== -1 && FLOW_INDICATORS.has(text.charAt(event.anchorEnd))
      && (event.type !== EVENT_ID.ALIAS || !flow[flow.length - 1])) return { reason: 'anchors' };
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) flow.push(event.style === 2);
  }
  if (documents > 1) return { reason: 'documents' };
  let value: unknown;
  try {
    value = constructFromEvents(events, { source: text, filename: file, schema: CORE_SCHEMA, maxAliases: -1 })[0];
  } catch {
    return { reason: 'refused' };
  }
  let offsets: Map<string, { value: number; key: number }> | undefined;
  return {
    value,
    offsetOf(path, key) {
      offsets ??= indexOffsets(events, text);
      for (let length = path.length; length >= 0; length--) {
        const found = offsets.get(JSON.stringify(path.slice(0, length)));
        if (found) return key && length === path.length && found.key !== -1 ? found.key : found.value;
      }
      return 0;
    },
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
