import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { compileSchemaValidator } from '../../src/config/schema-check.js';
import { buildProgram } from '../../src/cli/main.js';
// @ts-expect-error a plain ES module of the build scripts, without types
import { schemaReference } from '../../scripts/schema-reference.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const text = (page: string): string => readFileSync(path.join(ROOT, page), 'utf8');

interface Block { page: string; line: number; lang: string; body: string }

/** Every fenced block of every page, with its language and the line it starts at. */
function blocks(): Block[] {
  return PAGES.flatMap((page) => {
    const found: Block[] = [];
    const lines = text(page).split('\n');
    let open: { lang: string; line: number; indent: number; body: string[] } | null = null;
    lines.forEach((line, index) => {
      const fence = /^( *)```(\w*)\s*$/.exec(line);
      if (open === null && fence) open = { lang: fence[2] ?? '', line: index + 1, indent: (fence[1] ?? '').length, body: [] };
      else if (open !== null && fence) {
        found.push({ page, line: open.line, lang: open.lang, body: open.body.join('\n') });
        open = null;
      } else if (open !== null) open.body.push(line.slice(open.indent));
    });
    return found;
  });
}

/** A shell line's words, as a POSIX shell splits them (quotes, backslashes); variables and globs left as written. */
function words(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null; else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null; else if (c === '\\' && i + 1 < line.length) word += line[++i]; else word += c;
    } else if (c === "'" || c === '"') {
      quote = c; started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i]; started = true;
    } else if (/\s/.test(c)) {
      if (started || word !== '') out.push(word);
      word = ''; started = false;
    } else {
      word += c; started = true;
    }
  }
  if (started || word !== '') out.push(word);
  return out;
}

/**
 * The fedctl commands of a block of shell: continued lines joined, comments,
 * pipes, redirections and chains cut; a synopsis's optional parts (`[--limit
 * N]`) taken, its placeholders (`N`, `ID`) given a value.
 */
function fedctlCommands(body: string): string[][] {
  return body.replace(/\\\n\s*/g, ' ').split('\n').flatMap((line) => line.replace(/^\s*(\$|-|run:)\s+/, '').split(/&&|\|\||;|\|(?!\|)/))
    .map((part) => part.replace(/\s#.*$/, '').replace(/\s[12]?>>?\s*\S+/g, '').replace(/[[\]]/g, '').trim())
    .filter((part) => /^(npx )?fedctl\s/.test(part))
    .map((part) => words(part.replace(/^npx /, '')).slice(1).map((word) => (/^[A-Z][A-Z0-9_]*$/.test(word) ? '1' : word)));
}

const COMMANDS = new Set(buildProgram(quietIo(), () => undefined).commands.map((command) => command.name()));

function quietIo(): Parameters<typeof buildProgram>[0] {
  const sink = new PassThrough();
  return { stdout: sink, stderr: sink, stdin: new PassThrough(), env: {}, cwd: ROOT };
}

/** Whether fedctl's command line takes these words (commands and options known, values accepted), without running anything. */
async function parses(argv: readonly string[]): Promise<string | null> {
  let said = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => { said += chunk.toString(); });
  const io = { ...quietIo(), stderr };
  const program = buildProgram(io, () => undefined);
  const STOP = new Error('stop before the action');
  program.hook('preAction', () => { throw STOP; });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return null;
  } catch (error) {
    if (error === STOP) return null;
    // --help and --version end parsing successfully.
    if ((error as { exitCode?: number }).exitCode === 0) return null;
    return said.trim() || String(error);
  }
}

describe('the docs: README.md and docs/*.md', () => {
  it('docs/reference.md is what scripts/schema-reference.mjs makes of the JSON Schema (run it after changing the schema)', () => {
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas/federation.schema.json'), 'utf8')) as object;
    assert.equal(text('docs/reference.md'), (schemaReference as (schema: object) => string)(schema));
  });

  it('every link between the pages reaches a file, and a heading where it names one', () => {
    const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const anchors = (page: string): Set<string> => new Set(text(page).split('\n').filter((l) => /^#+ /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
    const broken: string[] = [];
    for (const page of PAGES) {
      // Links outside code: code blocks and spans are left out.
      const prose = text(page).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^(https?:|mailto:)/.test(target)) continue;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const resolved = file === '' ? page : path.normalize(path.join(path.dirname(page), file));
        if (!existsSync(path.join(ROOT, resolved))) broken.push(`${page}: ${target} (no file ${resolved})`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('every YAML block parses, and every config among them is valid against the JSON Schema (but for placeholders written …)', async () => {
    const validate = await compileSchemaValidator();
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schemas/federation.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const topLevel = new Set(Object.keys(schema.properties));
    const problems: string[] = [];
    let configs = 0;
    for (const block of blocks().filter((b) => b.lang === 'yaml')) {
      let value: unknown;
      try {
        value = parse(block.body);
      } catch (error) {
        problems.push(`${block.page}:${block.line}: ${String(error).split('\n')[0]}`);
        continue;
      }
      const isConfig = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 && Object.keys(value).every((key) => topLevel.has(key));
      if (!isConfig || block.body.includes('…')) continue;
      configs++;
      if (!validate(value)) problems.push(`${block.page}:${block.line}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
    }
    assert.deepEqual(problems, []);
    assert.ok(configs >= 5, `the docs show configs (${configs} found)`);
  });

  it('every fedctl command they show names commands and options fedctl has, with values it takes', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const block of blocks().filter((b) => b.lang !== 'json' && b.lang !== 'sql')) {
      for (const argv of fedctlCommands(block.body)) {
        // Output shown in a block ("fedctl will make these changes …") is prose, not a command.
        if (block.lang !== 'sh' && !(argv[0] !== undefined && (COMMANDS.has(argv[0]) || argv[0].startsWith('-')))) continue;
        checked++;
        const refused = await parses(argv);
        if (refused !== null) problems.push(`${block.page}:${block.line}: fedctl ${argv.join(' ')}: ${refused.split('\n')[0]}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked >= 30, `the docs show fedctl commands (${checked} checked)`);
  });
});
