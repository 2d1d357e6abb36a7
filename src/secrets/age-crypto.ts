import { Decrypter, Encrypter, armor } from 'age-encryption';
import { messageOf } from '../errors.js';

/** Why a string is not an age recipient fedctl can encrypt to, or null when it is one. */
export function recipientProblem(recipient: string): string | null {
  try {
    new Encrypter().addRecipient(recipient);
    return null;
  } catch (error) {
    return messageOf(error);
  }
}

/** `text` encrypted to every recipient, armored (`-----BEGIN AGE ENCRYPTED FILE-----`), as `age -a` writes it. */
export async function encryptArmored(recipients: readonly string[], text: string): Promise<string> {
  const encrypter = new Encrypter();
  for (const recipient of new Set(recipients)) encrypter.addRecipient(recipient);
  return armor.encode(await encrypter.encrypt(text));
}

/** The identities (`AGE-SECRET-KEY-1…`) of an age identity file: one a line, `#` comments. */
export function parseIdentityFile(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
}

export type Decrypted = { readonly text: string } | { readonly problem: 'not-for-you' | 'unreadable'; readonly detail: string };

/** Open an armored age file with any of the identities. */
export async function decryptArmored(identities: readonly string[], armored: string): Promise<Decrypted> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  let binary: Uint8Array;
  try {
    binary = armor.decode(armored);
  } catch (error) {
    return { problem: 'unreadable', detail: messageOf(error) };
  }
  try {
    return { text: await decrypter.decrypt(binary, 'text') };
  } catch (error) {
    const detail = messageOf(error);
    return { problem: /no identity matched/.test(detail) ? 'not-for-you' : 'unreadable', detail };
  }
}
