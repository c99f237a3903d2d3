// Where commands print (stdout for results, stderr for messages): the process's streams, or a
// capture when tests run the program in-process (program.ts run()). Logs go through pino (stderr).
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CliOutput = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

let current: CliOutput = processOutput;

export const output: CliOutput = {
  out: (t) => current.out(t),
  err: (t) => current.err(t),
};

/** Sends command output to `o` until the returned function is called. */
export function redirectOutput(o: CliOutput): () => void {
  const before = current;
  current = o;
  return () => {
    current = before;
  };
}

/**
 * A command that ran but could not do all it was asked ends with this: program.ts run() prints the
 * message like any error and exits with `exitCode` (e.g. replay: 2 = some input was rejected).
 */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}
