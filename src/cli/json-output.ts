import type { OutputStream } from './io.js';

/** A stream that says when it can take more: process.stdout. */
interface Drainable {
  once(event: 'drain', listener: () => void): unknown;
}

const drainable = (out: OutputStream): out is OutputStream & Drainable => typeof (out as Partial<Drainable>).once === 'function';

/**
 * Writes an object whose one list may be longer than a string can hold (every
 * user of a large server), item by item and waiting while the reader is
 * behind; the text is what JSON.stringify(value, null, 2) gives.
 */
export async function writeJsonWithList(out: OutputStream, fields: Readonly<Record<string, unknown>>, key: string, items: Iterable<unknown>): Promise<void> {
  const write = async (text: string): Promise<void> => {
    if (out.write(text) === false && drainable(out)) await new Promise<void>((resolve) => { out.once('drain', resolve); });
  };
  const head = Object.keys(fields).length === 0 ? '{' : `${JSON.stringify(fields, null, 2).slice(0, -2)},`;
  await write(`${head}\n  ${JSON.stringify(key)}: [`);
  let count = 0;
  for (const item of items) {
    await write(`${count > 0 ? ',' : ''}\n    ${JSON.stringify(item, null, 2).replaceAll('\n', '\n    ')}`);
    count++;
  }
  await write(`${count > 0 ? '\n  ' : ''}]\n}\n`);
}
