import { CORE_SCHEMA, EVENT_ID, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { DocumentPath } from './diagnostic.js';

/** A document read from js-yaml's event stream: its value, and the source offset of every path in it. */
export interface EventDocument {
  readonly value: unknown;
  /** The document has aliases: its expansion must be judged. */
  readonly aliases: boolean;
  /** Offset of the node at `path` (or of its mapping key), or of the nearest ancestor that exists. */
  offsetOf(path: DocumentPath, key: boolean): number;
}

/**
 * Why a text is left to the precise parser: js-yaml refused it (the precise
 * parser then reports every problem with its place), or it uses what the two
 * parsers read differently (explicit tags, directives, several documents,
 * an anchor name that runs into a bracket or comma, a null key).
 */
export type NotForEvents = { readonly reason: 'refused' | 'tags' | 'directives' | 'documents' | 'anchors' | 'null key' };

const FLOW_INDICATORS: ReadonlySet<string> = new Set([',', '[', ']', '{', '}']);
const NULL_SPELLINGS: ReadonlySet<string> = new Set(['', '~', 'null', 'Null', 'NULL']);

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
  let aliases = false;
  // The open collections: flow style or not, and for a mapping whether its next node is a key.
  const open: { flow: boolean; mapping: boolean; atKey: boolean }[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) {
      documents++;
      if (event.directives.length > 0) return { reason: 'directives' };
      open.push({ flow: false, mapping: false, atKey: false });
      continue;
    }
    if (event.type === EVENT_ID.POP) {
      open.pop();
      continue;
    }
    const parent = open[open.length - 1];
    const isKey = parent !== undefined && parent.mapping && parent.atKey;
    if (parent?.mapping) parent.atKey = !parent.atKey;
    if ('tagStart' in event && event.tagStart !== -1) return { reason: 'tags' };
    // js-yaml ends an anchor or alias name at a flow indicator; the precise parser does so only inside flow collections.
    if (event.anchorStart !== -1 && FLOW_INDICATORS.has(text.charAt(event.anchorEnd))
      && (event.type !== EVENT_ID.ALIAS || !parent?.flow)) return { reason: 'anchors' };
    if (event.type === EVENT_ID.ALIAS) aliases = true;
    // js-yaml names a null key "null", the precise parser "".
    if (isKey && event.type === EVENT_ID.SCALAR && event.style === 1 && NULL_SPELLINGS.has(text.slice(event.valueStart, event.valueEnd))) return { reason: 'null key' };
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) {
      open.push({ flow: event.style === 2, mapping: event.type === EVENT_ID.MAPPING, atKey: true });
    }
  }
  if (documents > 1) return { reason: 'documents' };
  let value: unknown;
  try {
    value = constructFromEvents(events, { source: text, filename: file, schema: CORE_SCHEMA, maxAliases: -1 })[0];
  } catch {
    return { reason: 'refused' };
  }
  // The events are not kept (at the largest sizes they weigh more than the value): positions,
  // needed only to report a problem, come from reading the text again.
  events = [];
  let offsets: Map<string, { value: number; key: number }> | undefined;
  return {
    value,
    aliases,
    offsetOf(path, key) {
      offsets ??= indexOffsets(parseEvents(text, { filename: file }), text);
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
