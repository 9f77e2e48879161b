// Every error that reaches an operator names the problem and the fix. Faces decide how to show
// it (one line, {"error":{...}}, an in-screen banner); the domain only throws.

export type OpsErrorCode =
  | 'config'
  | 'usage'
  | 'database-unreachable'
  | 'redis-unreachable'
  | 'schema-behind'
  | 'data-dir-locked'
  | 'unknown-course-key'
  | 'malformed-course-key'
  | 'unknown-user'
  | 'missing-freeze-date'
  | 'cannot-freeze-yet'
  | 'already-complete'
  | 'freeze-running'
  | 'lost-lock'
  | 'confirmation-mismatch'
  | 'unknown-snapshot'
  | 'snapshot-restored'
  | 'revert-blocked'
  | 'not-frozen'
  | 'no-social-auth'
  | 'invalid-credentials'
  | 'edx-error'
  | 'edx-timeout'
  | 'edx-unreachable'
  | 'missing-cached-data'
  | 'invalid-edx-data'
  | 'conflict'
  | 'nothing-to-do'
  | 'read-only'
  // issue 9: proctored exam grades, combined grades, certificates
  | 'invalid-exam-file'
  | 'unknown-exam-run'
  | 'unknown-course'
  | 'unknown-program'
  | 'internal';

export class OpsError extends Error {
  readonly code: OpsErrorCode;
  readonly hint: string;
  readonly exitCode: number;

  constructor(code: OpsErrorCode, message: string, hint = '', options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OpsError';
    this.code = code;
    this.hint = hint;
    this.exitCode = options.exitCode ?? (code === 'usage' ? 2 : 1);
  }

  /** The single line an operator reads: problem, then fix. */
  get line(): string {
    return this.hint ? `${this.message} — ${this.hint}` : this.message;
  }

  toJSON(): { code: string; message: string; hint?: string } {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

export function isOpsError(error: unknown): error is OpsError {
  return error instanceof OpsError;
}

/** One line for a failure: an OpsError's own message, else what kind of unexpected error it was. */
export function failureMessage(error: unknown): string {
  return isOpsError(error)
    ? error.message
    : `unexpected ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? String(error)}`;
}
