import { Document, isNode } from 'yaml';
import type { DocumentPath } from '../diagnostic.js';

/** A comment for the line of the config at `path`. */
export interface LineComment {
  readonly path: DocumentPath;
  readonly text: string;
}

/** A config as YAML, `header` lines commented at the top and each comment above the line it is about. */
export function commentedYaml(config: Readonly<Record<string, unknown>>, header: readonly string[], comments: readonly LineComment[]): string {
  const doc = new Document(config);
  for (const { path, text } of comments) {
    const node = doc.getIn(path, true);
    if (!isNode(node)) continue;
    const line = ` ${text}`.replace(/\n/g, ' ');
    node.commentBefore = node.commentBefore ? `${node.commentBefore}\n${line}` : line;
  }
  const top = header.map((line) => `# ${line}`.trimEnd()).join('\n');
  return `${top}${top === '' ? '' : '\n'}${doc.toString({ lineWidth: 0 })}`;
}
