import { dump, load } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import { readIfExists, replaceAtomically, restoreFile } from './atomic-file.js';

/**
 * Per node, the digest of the policies its file was last written with: no
 * secret, kept beside the records so that a plan, which cannot open the node
 * files, can still name those whose policies the config has changed since.
 */
export class WrittenPolicies {
  constructor(readonly file: string) {}

  async read(): Promise<Map<string, string>> {
    const text = await readIfExists(this.file);
    if (text === null) return new Map();
    let value: unknown;
    try {
      value = load(text);
    } catch (error) {
      throw new FedctlError('SECRETS_FILE', `${this.file} is not valid YAML: ${messageOf(error).split('\n')[0]}`, 'fix or remove the file (plans then cannot tell stale node files)');
    }
    const nodes = (value as { node_policies?: Record<string, unknown> } | null)?.node_policies ?? {};
    return new Map(Object.entries(nodes).flatMap(([name, digest]) => (typeof digest === 'string' ? [[name, digest] as const] : [])));
  }

  /** Note the digests of files just written, keeping the others; the returned step puts the file back as it was. */
  async note(digests: ReadonlyMap<string, string>): Promise<() => Promise<void>> {
    const before = await readIfExists(this.file);
    const all = new Map([...await this.read(), ...digests]);
    const content = Object.fromEntries([...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await replaceAtomically(this.file, `# fedctl: the policies each node file was written with, as digests; no secret is in this file.\n${dump({ node_policies: content }, { lineWidth: -1 })}`);
    return () => restoreFile(this.file, before);
  }
}
