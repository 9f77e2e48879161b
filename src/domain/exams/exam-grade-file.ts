import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DomainContext } from '../context.js';
import { inRolledBackTransaction } from '../db.js';
import { OpsError } from '../errors.js';
import { applyExamGradePlan, planExamGradeText, type ExamGradeImportResult } from './exam-grade-import.js';

// The file the course team sent, read and checked before anything is written: the CLI's commands
// and the console's "adjusted grades received" step both start here.

/** The CSV's text and its base name (audit rows and messages name the file by it), or a usage error naming the path. */
export async function readExamGradeFile(file: string): Promise<{ text: string; name: string }> {
  try {
    return { text: await readFile(file, 'utf8'), name: path.basename(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new OpsError('usage', `cannot read ${file} (${code})`, 'give the path of the CSV file the course team sent');
  }
}

/**
 * Every row checked against the database, and what `exams import` would do with the file now
 * (created, modified, unchanged, the exam runs it writes): the import itself, rolled back. A bad
 * row throws the import's ExamFileError, every row listed with its line.
 */
export async function checkExamGradeFile(ctx: DomainContext, text: string, fileName: string): Promise<ExamGradeImportResult> {
  return inRolledBackTransaction(ctx.db, async (trx) => {
    const c = { ...ctx, db: trx };
    return applyExamGradePlan(c, await planExamGradeText(c, text, fileName));
  });
}
