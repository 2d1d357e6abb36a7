import { dump } from 'js-yaml';
import { openRecords } from '../../secrets/show-secrets.js';
import { EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { OutputFlags } from '../output-options.js';

/** `fedctl secrets show`: every node's current key and every generated password, decrypted, as the plaintext secrets file lists them. */
export async function secretsShowCommand(dir: string, flags: OutputFlags & { identity: string }, io: CliIo): Promise<number> {
  const { content, opened, notForYou } = await openRecords(dir, flags.identity);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ formatVersion: 1, folder: dir, opened, forOtherRecipients: notForYou, ...content }, null, 2)}\n`);
    return EXIT_OK;
  }
  io.stdout.write(`# ${opened} record(s) of ${dir} opened${notForYou > 0 ? `; ${notForYou} are for other recipients only` : ''}. The latest key of each node wins.\n`);
  io.stdout.write(dump(content, { lineWidth: -1 }));
  return EXIT_OK;
}
