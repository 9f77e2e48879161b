import { OpsError } from '../errors.js';

/** One bad row of an exam grade file: its line in the file (1 = the header) and what is wrong. */
export interface RowProblem {
  line: number;
  reason: string;
}

/**
 * A file with any bad row writes nothing (issue 9): every problem is listed, by line. Faces print
 * the rows, then the one-line summary; JSON gets them as `error.rows`.
 */
export class ExamFileError extends OpsError {
  readonly problems: RowProblem[];
  /** The file as a whole is unusable (header, CSV syntax): the message already says why. */
  readonly fileLevel: boolean;

  constructor(fileName: string, problems: RowProblem[], options: { fileLevel?: boolean } = {}) {
    const sorted = [...problems].sort((a, b) => a.line - b.line);
    const rows = new Set(sorted.map((p) => p.line)).size;
    super(
      'invalid-exam-file',
      options.fileLevel
        ? `${fileName}: ${sorted[0]?.reason ?? 'unreadable'}; nothing was written`
        : `${fileName} has ${rows} bad row${rows === 1 ? '' : 's'}; nothing was written`,
      options.fileLevel ? 'fix the file and run again' : 'fix the rows listed (line: reason) and run the command again',
    );
    this.problems = sorted;
    this.fileLevel = Boolean(options.fileLevel);
  }

  toJSON(): { code: string; message: string; hint?: string; rows: RowProblem[] } {
    return { ...super.toJSON(), rows: this.problems };
  }
}

export function isExamFileError(error: unknown): error is ExamFileError {
  return error instanceof ExamFileError;
}
