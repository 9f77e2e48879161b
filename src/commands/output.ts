import { OpsError } from '../domain/errors.js';

/** How a command speaks: plain lines for people, one JSON document for scripts. */
export interface Output {
  readonly json: boolean;
  readonly tty: boolean;
  /** A plain line on stdout (ignored in JSON mode). */
  line(text?: string): void;
  /** The JSON document on stdout (JSON mode only). */
  result(value: unknown): void;
  /** A progress or notice line on stderr, never in JSON mode, never into stdout. */
  note(text: string): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
): Output {
  return {
    json,
    tty: Boolean(stdout.isTTY),
    line(text = '') {
      if (!json) stdout.write(`${text}\n`);
    },
    result(value) {
      if (json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    note(text) {
      if (!json) stderr.write(`${text}\n`);
    },
  };
}

/** Prints an error the way the mode wants and returns the exit code. */
export function reportError(error: unknown, json: boolean, debug: boolean): number {
  const ops = error instanceof OpsError ? error : null;
  if (json) {
    const payload = ops ? ops.toJSON() : { code: 'internal', message: `unexpected error: ${(error as Error)?.message ?? String(error)}` };
    process.stdout.write(`${JSON.stringify({ error: payload })}\n`);
  } else if (ops) {
    process.stderr.write(`error: ${ops.line}\n`);
  } else {
    process.stderr.write(
      `error: unexpected ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)} — rerun with GRADEOPS_DEBUG=1 for details and report it\n`,
    );
  }
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ops ? ops.exitCode : 1;
}
