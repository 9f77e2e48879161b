import { InvalidArgumentError } from 'commander';
import { isExamFileError } from '../domain/exams/exam-file-error.js';
import { parseIsoInstant } from '../domain/exams/iso-instant.js';
import type { Output } from './output.js';

// Arguments and file handling shared by `exams`, `combined-grades` and `certificates`.

/** A database id argument: a whole number ≥ 1 (else a usage error, exit 2). */
export function parseId(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('expected an id (a whole number ≥ 1).');
  return n;
}

export function parseInstant(value: string): Date {
  const at = parseIsoInstant(value);
  if (!at) throw new InvalidArgumentError('expected an ISO-8601 date-time such as 2026-12-01T16:00:00Z (or a date, meaning 00:00 UTC).');
  return at;
}

const SHOWN_BAD_ROWS = 100;

/**
 * Runs `work`; a file with bad rows has them listed on stderr (line: reason) before the one-line
 * error. JSON mode gets every row in `error.rows`.
 */
export async function listingBadRows<T>(out: Output, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isExamFileError(error) && !error.fileLevel && !out.json) {
      for (const p of error.problems.slice(0, SHOWN_BAD_ROWS)) out.note(`line ${p.line}: ${p.reason}`);
      if (error.problems.length > SHOWN_BAD_ROWS)
        out.note(`… and ${error.problems.length - SHOWN_BAD_ROWS} more bad rows (--json lists them all)`);
    }
    throw error;
  }
}
