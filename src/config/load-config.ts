import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { FedctlError, messageOf } from '../errors.js';
import type { Diagnostic, DocumentPath, SourceLocation } from '../diagnostic.js';
import { readYamlFast } from './read-yaml-fast.js';
import { offsetFinder } from './yaml-offsets.js';

/** The file name fedctl writes secrets to; never read as config when a directory is loaded. */
export const DEFAULT_SECRETS_FILE_NAME = 'fedctl-secrets.yaml';

/**
 * What js-yaml's tokenizer reads differently from the precise parser and its
 * nodes do not show, each behind the character it needs (one pattern of all
 * of them takes a tenth of the parse on a large file): a tab in a line's
 * indentation or before an anchor after a sequence dash, content after a
 * document end marker or on the line of a `---`, a `#` right after `[`, `{`
 * or `,` (js-yaml starts a comment there). Rare; a file with one pays for the
 * precise parser. test/config/yaml-semantics.test.ts holds both to one
 * reading everywhere else.
 */
const NOT_FOR_FAST_PATH: readonly { readonly needs: string; readonly pattern: RegExp }[] = [
  { needs: '\t', pattern: /^ *\t|-[ \t]*\t[ \t]*&/m },
  { needs: '...', pattern: /^\.\.\./m },
  { needs: '---', pattern: /^---(?:\S|[ \t]+[^\s#])/m },
  { needs: '#', pattern: /[[{,]#/ },
];

const notForFastPath = (text: string): boolean => NOT_FOR_FAST_PATH.some(({ needs, pattern }) => text.includes(needs) && pattern.test(text));

/**
 * Where a value's `${` can come from: the text itself, a double-quoted escape
 * of `$` or `{` (`\x24`, `\u007b`, …), or a `\` line continuation between them
 * (every other line break in a scalar folds to a space or stays a newline).
 */
const REFERENCE_SOURCE = /\$\{|\\(?:[xuU]0*(?:24|7[bB])|\r?\n)/;

/** Far above the largest federation (50,000 users is about 10 MiB): a guard against feeding fedctl the wrong file. */
const MAX_CONFIG_BYTES = 64 * 2 ** 20;

/**
 * Aliases may expand a document to at most this many values per character
 * of its text: thousands of aliases of small values are fine, an alias bomb
 * (aliases of aliases, growing exponentially) is not.
 */
const MAX_EXPANSION_PER_CHARACTER = 4;
const MIN_EXPANSION_LIMIT = 100_000;

/**
 * The position-keeping parser, loaded on first use: most runs never need it,
 * and loading it is a good part of a small config's start-up.
 */
let preciseParser: typeof Yaml | undefined;
function yamlPackage(): typeof Yaml {
  preciseParser ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return preciseParser;
}

/** One parsed config file: its plain value, and a way back from a path to a position. */
export interface ConfigDocument {
  readonly file: string;
  readonly value: unknown;
  /** Some string of the value may hold `${`: only then is it worth looking for references. */
  readonly mayHoldReferences: boolean;
  /** Position of the value at `path`, or of the nearest ancestor that exists; `key` points at the mapping key. */
  locate(path: DocumentPath, options?: { key?: boolean }): SourceLocation;
}

export interface LoadedConfig {
  readonly documents: readonly ConfigDocument[];
  readonly diagnostics: readonly Diagnostic[];
}

/** The YAML files named by the inputs: files as given, directories as their *.yaml/*.yml in name order. */
export async function listConfigFiles(inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch (error) {
      throw new FedctlError('CONFIG_UNREADABLE', `cannot read config ${input}: ${messageOf(error)}`,
        'give a YAML file or a directory of *.yaml files');
    }
    if (info.isDirectory()) {
      const names = (await readdir(input))
        .filter((name) => /\.ya?ml$/i.test(name) && name !== DEFAULT_SECRETS_FILE_NAME)
        .sort();
      if (names.length === 0) {
        throw new FedctlError('CONFIG_UNREADABLE', `no *.yaml or *.yml files in directory ${input}`);
      }
      files.push(...names.map((name) => path.join(input, name)));
    } else {
      files.push(input);
    }
  }
  return files;
}

export async function loadConfig(inputs: readonly string[]): Promise<LoadedConfig> {
  const files = await listConfigFiles(inputs);
  const documents: ConfigDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > MAX_CONFIG_BYTES) {
        throw new FedctlError('CONFIG_UNREADABLE', `config ${file} is ${Math.round(size / 2 ** 20)} MiB; fedctl reads files up to ${MAX_CONFIG_BYTES / 2 ** 20} MiB`,
          'split the federation into several files in a directory');
      }
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (error instanceof FedctlError) throw error;
      throw new FedctlError('CONFIG_UNREADABLE', `cannot read config ${file}: ${messageOf(error)}`);
    }
    const parsed = parseConfigText(file, text);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.document) documents.push(parsed.document);
  }
  return { documents, diagnostics };
}

/**
 * Parse one file's text; a document is returned only when the YAML itself is
 * sound. js-yaml reads it, about ten times faster than the position-keeping
 * parser; positions, needed only to report a problem, come from js-yaml's
 * events when asked for. The precise parser reads what js-yaml refuses (to
 * report every syntax error) and the few constructs the two read differently
 * (explicit tags, directives). Both read YAML 1.2 with the core schema.
 * Aliases are limited by how far they expand the document.
 */
export function parseConfigText(file: string, text: string): { document: ConfigDocument | null; diagnostics: Diagnostic[] } {
  if (notForFastPath(text)) return parseConfigTextPrecisely(file, text);
  const read = readYamlFast(text, file);
  if ('reason' in read) return parseConfigTextPrecisely(file, text);
  // Before anything walks the value: an alias bomb is refused while it is still small in memory.
  const expansion = read.anchors ? expansionProblem(file, text, read.value) : null;
  if (expansion !== null) return { document: null, diagnostics: [expansion] };
  const offsetOf = offsetFinder(text, file);
  // Positions are needed only to report a problem: the line index is built on the first.
  let lineStarts: number[] | undefined;
  const at = (offset: number): SourceLocation => {
    lineStarts ??= lineStartsOf(text);
    const line = lastAtOrBefore(lineStarts, offset);
    return { file, line: line + 1, column: offset - (lineStarts[line] ?? 0) + 1 };
  };
  const document: ConfigDocument = {
    file,
    value: read.value ?? {},
    mayHoldReferences: REFERENCE_SOURCE.test(text),
    locate: (docPath, options) => at(offsetOf(docPath, options?.key ?? false)),
  };
  return { document, diagnostics: [] };
}

/** Offsets where lines start, for offset → line and column. */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Index of the last value ≤ `target` in a sorted list. */
function lastAtOrBefore(sorted: readonly number[], target: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((sorted[mid] as number) <= target) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * How many values a file's document has once every alias is expanded,
 * counted over shared values once each (so counting is linear however deep
 * the aliases nest); a problem (at the file's start) when that passes the
 * limit for the text's length, or an alias contains itself.
 */
function expansionProblem(file: string, text: string, value: unknown): Diagnostic | null {
  const limit = Math.max(MIN_EXPANSION_LIMIT, text.length * MAX_EXPANSION_PER_CHARACTER);
  const sizes = new Map<object, number>();
  const inProgress = new Set<object>();
  let recursive = false;
  const size = (node: unknown): number => {
    if (node === null || typeof node !== 'object') return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (inProgress.has(node)) {
      recursive = true;
      return limit;
    }
    inProgress.add(node);
    let total = 1;
    for (const child of Object.values(node)) {
      total += size(child);
      if (total > limit) break;
    }
    inProgress.delete(node);
    sizes.set(node, total);
    return total;
  };
  const total = size(value);
  const problem = (message: string, hint: string): Diagnostic => ({ severity: 'error', location: { file, line: 1, column: 1 }, path: [], message, hint });
  if (recursive) return problem('invalid YAML: an alias refers to the node that contains it', 'a config cannot be recursive; write the values out');
  if (total > limit) {
    return problem(`invalid YAML: its aliases expand it to more than ${limit.toLocaleString('en')} values`,
      'aliases of aliases grow exponentially (an alias bomb); write the values out or share less');
  }
  return null;
}

/** Parse with source positions (the `yaml` package): slower, and exact about where everything is. */
export function parseConfigTextPrecisely(
  file: string,
  text: string,
): { document: ConfigDocument | null; diagnostics: Diagnostic[] } {
  const { LineCounter, parseDocument } = yamlPackage();
  const lineCounter = new LineCounter();
  // logLevel 'error': a key that is a collection becomes text, and a config problem (unknown field), not a process warning.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const yamlProblem = (error: YAMLError): Diagnostic => ({
    severity: 'error',
    location: at(error.pos[0]),
    path: [],
    message: `invalid YAML: ${error.message.split('\n')[0]}`,
  });
  if (doc.errors.length > 0) {
    return { document: null, diagnostics: doc.errors.map(yamlProblem) };
  }
  let value: unknown;
  try {
    // Aliases are judged by how far they expand (below), not by how many there are.
    value = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    return {
      document: null,
      diagnostics: [{
        severity: 'error',
        location: at(0),
        path: [],
        message: `invalid YAML: ${messageOf(error)}`,
      }],
    };
  }
  const expansion = expansionProblem(file, text, value);
  if (expansion !== null) return { document: null, diagnostics: [expansion] };
  const document: ConfigDocument = {
    file,
    value: value ?? {},
    mayHoldReferences: REFERENCE_SOURCE.test(text),
    locate: (docPath, options) => at(offsetOf(doc, docPath, options?.key ?? false)),
  };
  return { document, diagnostics: doc.warnings.map((w) => ({ ...yamlProblem(w), severity: 'warning' })) };
}

function offsetOf(doc: Document, docPath: DocumentPath, wantKey: boolean): number {
  const { isAlias, isMap, isScalar, isSeq } = yamlPackage();
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < docPath.length; i++) {
    const segment = docPath[i];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : item.key) === String(segment));
      if (!pair) break;
      if (wantKey && i === docPath.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range?.[0];
  }
  return undefined;
}
