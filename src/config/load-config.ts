import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type YAMLError } from 'yaml';
import { CORE_SCHEMA, load as loadFast } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import type { Diagnostic, DocumentPath, SourceLocation } from './diagnostic.js';

/** The file name fedctl writes secrets to; never read as config when a directory is loaded. */
export const DEFAULT_SECRETS_FILE_NAME = 'fedctl-secrets.yaml';

/**
 * Where the two parsers read YAML differently (explicit tags, anchors,
 * directives, tabs, content after a document end marker), the precise one
 * decides; test/config/yaml-semantics.test.ts holds both to one reading
 * everywhere else.
 */
const NOT_FOR_FAST_PATH = /[!&\t]|^%|^\.\.\./m;

/** Far above the largest federation (50,000 users is about 10 MiB): a guard against feeding fedctl the wrong file. */
const MAX_CONFIG_BYTES = 64 * 2 ** 20;

/** Aliases beyond this count make a document an error (a billion-laughs guard). */
const MAX_ALIAS_COUNT = 100;

/** One parsed config file: its plain value, and a way back from a path to a position. */
export interface ConfigDocument {
  readonly file: string;
  readonly value: unknown;
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
 * sound. Most configs are valid, and positions are needed only to report a
 * problem, so the text is first read by js-yaml, about ten times faster than
 * the position-keeping parser; that parser runs only when js-yaml refuses the
 * text (a syntax error, any alias) or when a problem needs its position. Both
 * read YAML 1.2 with the core schema, so they give the same value.
 */
export function parseConfigText(file: string, text: string): { document: ConfigDocument | null; diagnostics: Diagnostic[] } {
  if (NOT_FOR_FAST_PATH.test(text)) return parseConfigTextPrecisely(file, text);
  let value: unknown;
  try {
    // Aliases are left to the precise parser, which limits them.
    value = loadFast(text, { schema: CORE_SCHEMA, maxAliases: 0, filename: file });
  } catch {
    return parseConfigTextPrecisely(file, text);
  }
  // js-yaml names an empty or null key "null", the precise parser "": let the precise one decide.
  if (hasKey(value, 'null')) return parseConfigTextPrecisely(file, text);
  let precise: ConfigDocument | null | undefined;
  const document: ConfigDocument = {
    file,
    value: value ?? {},
    locate: (docPath, options) => {
      precise ??= parseConfigTextPrecisely(file, text).document;
      return precise?.locate(docPath, options) ?? { file, line: 1, column: 1 };
    },
  };
  return { document, diagnostics: [] };
}

/** Parse with source positions (the `yaml` package): slower, and exact about where everything is. */
export function parseConfigTextPrecisely(
  file: string,
  text: string,
): { document: ConfigDocument | null; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
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
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    return {
      document: null,
      diagnostics: [{
        severity: 'error',
        location: at(0),
        path: [],
        message: `invalid YAML: ${messageOf(error)}`,
        hint: 'aliases are limited to protect against alias bombs; write the values out',
      }],
    };
  }
  const document: ConfigDocument = {
    file,
    value: value ?? {},
    locate: (docPath, options) => at(offsetOf(doc, docPath, options?.key ?? false)),
  };
  return { document, diagnostics: doc.warnings.map((w) => ({ ...yamlProblem(w), severity: 'warning' })) };
}

/** Whether any mapping in a plain value has `key`. */
function hasKey(value: unknown, key: string): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (!Array.isArray(item) && Object.hasOwn(item, key)) return true;
    for (const child of Object.values(item)) stack.push(child);
  }
  return false;
}

function offsetOf(doc: Document, docPath: DocumentPath, wantKey: boolean): number {
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
