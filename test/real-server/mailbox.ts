import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { domainToASCII } from 'node:url';
import { freePort, startProcess, type ServerProcess } from './server-process.js';

/** A message as the mail server received it: its recipients (as the envelope names them) and its text. */
export interface Mail {
  readonly to: readonly string[];
  readonly text: string;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives: where Keycloak's e-mail goes in the tests. */
export interface Mailbox {
  readonly host: string;
  readonly port: number;
  readonly process: ServerProcess;
  /** Every message received so far, oldest first. */
  messages(): Mail[];
  /** The first message to `address` beyond the first `seen` ones to it, waited for up to a minute. */
  waitFor(address: string, seen?: number): Promise<Mail>;
}

/** An address as an SMTP envelope carries it: the domain in ASCII (IDNA), the local part as written. */
export function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`.toLowerCase();
}

async function listening(port: number, what: ServerProcess, timeoutMs: number): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(200);
  }
  throw new Error(`the mail server does not answer on port ${port}: ${what.log().slice(-1000)}`);
}

/**
 * aiosmtpd (from PyPI, installed in HQ's environment) with its Mailbox
 * handler: each message a file of a maildir in `dir`, its envelope's
 * recipients in the X-RcptTo header the handler adds.
 */
export async function startMailbox(python: string, dir: string): Promise<Mailbox> {
  mkdirSync(dir, { recursive: true });
  const maildir = path.join(dir, 'maildir');
  const port = await freePort();
  const server = startProcess(python, ['-m', 'aiosmtpd', '-n', '-u', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
    cwd: dir, env: { PATH: process.env.PATH, HOME: dir, PYTHONUNBUFFERED: '1' }, logFile: path.join(dir, 'smtp.log'),
  });
  try {
    await listening(port, server, 30_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const messages = (): Mail[] => {
    const received = path.join(maildir, 'new');
    if (!existsSync(received)) return [];
    // Maildir names begin with the delivery time: sorted, they are in the order received.
    return readdirSync(received).sort().map((name) => {
      const text = readFileSync(path.join(received, name), 'utf8');
      const to = /^X-RcptTo: (.*)$/m.exec(text)?.[1]?.split(',').map((a) => a.trim().toLowerCase()) ?? [];
      return { to, text };
    });
  };
  return {
    host: '127.0.0.1', port, process: server, messages,
    async waitFor(address, seen = 0) {
      const wanted = envelopeAddress(address);
      for (const until = Date.now() + 60_000; Date.now() < until; await sleep(250)) {
        const mail = messages().filter((m) => m.to.includes(wanted))[seen];
        if (mail !== undefined) return mail;
      }
      throw new Error(`no mail to ${wanted} (after ${seen}) within a minute; the mail server has ${messages().length} message(s)`);
    },
  };
}
