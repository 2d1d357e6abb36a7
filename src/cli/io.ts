/** A writable stream as the CLI sees it: tests pass in-memory ones. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface InputStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
}

/** Everything a command touches outside the pipeline, injected so commands run the same in tests. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: InputStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Color only on a terminal, and never under NO_COLOR or --no-color. */
export function useColor(stream: OutputStream, env: NodeJS.ProcessEnv, flag: boolean): boolean {
  return flag && stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
