import { CsvError, parse, type Options } from 'csv-parse/sync';
import { ExamFileError, type RowProblem } from './exam-file-error.js';

// The two CSV files of the exam runbook (spec 2.12), told apart by their header:
// - the exam-grade import file from MITx Online (import_edx_exam_grades): `username` (the MITx
//   Online username, i.e. the social-auth uid, spec 5 item 4), `course_id` (courses_course.id),
//   `no_show`, and when no_show is 0 `score` and `grade`; any other column is kept in row_data;
// - the adjustment (curve) file (adjust_exam_grades_from_csv): `proctoredexam_id`, `score`.

export type ExamGradeFileFormat = 'exam-grades' | 'adjustment';

export const EXAM_GRADE_COLUMNS = ['username', 'course_id', 'no_show'] as const;
export const SCORED_COLUMNS = ['score', 'grade'] as const;
export const ADJUSTMENT_COLUMNS = ['proctoredexam_id', 'score'] as const;

export interface CsvRecord {
  /** The line the record starts on (the header is line 1). */
  line: number;
  /** Every column of the header, raw (row_data keeps them as the file has them). */
  values: Record<string, string>;
}

export interface ParsedExamGradeFile {
  format: ExamGradeFileFormat;
  columns: string[];
  records: CsvRecord[];
  /** Rows whose shape is wrong (field count); the values of the others are checked later. */
  problems: RowProblem[];
}

const FORMATS_HINT =
  'expected the exam-grade import header `username,course_id,no_show,score,grade` (more columns allowed) or the adjustment header `proctoredexam_id,score`';

function fileError(fileName: string, line: number, reason: string): ExamFileError {
  return new ExamFileError(fileName, [{ line, reason }], { fileLevel: true });
}

function detectFormat(columns: string[], fileName: string): ExamGradeFileFormat {
  const has = (c: string) => columns.includes(c);
  const adjustment = has('proctoredexam_id');
  const grades = has('username') || has('course_id');
  if (adjustment && grades)
    throw fileError(fileName, 1, `the header has both proctoredexam_id and username/course_id, so it is neither file; ${FORMATS_HINT}`);
  if (adjustment) {
    if (!has('score')) throw fileError(fileName, 1, 'the adjustment file has no score column');
    return 'adjustment';
  }
  if (grades) {
    const missing = EXAM_GRADE_COLUMNS.filter((c) => !has(c));
    if (missing.length > 0)
      throw fileError(fileName, 1, `the exam-grade import file lacks the column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
    return 'exam-grades';
  }
  throw fileError(fileName, 1, `the header (${columns.join(',')}) matches neither file; ${FORMATS_HINT}`);
}

/** Parses the file (csv-parse, with line numbers) and tells which of the two it is. */
export function parseExamGradeCsv(text: string, fileName: string): ParsedExamGradeFile {
  // csv-parse counts a CRLF inside a quoted field as two lines; plain LF keeps its line numbers right.
  const normalized = text.replace(/\r\n/g, '\n');
  let parsed: Array<{ end: number; fields: string[] }>;
  try {
    // Arrays, not csv-parse's per-record info objects (a third of the time on 20,000 rows); empty
    // lines are kept as records so each record starts on the line after the previous one ends.
    const options: Options = {
      bom: true,
      relax_column_count: true,
      on_record: (fields: string[], context: { lines: number }) => ({ end: context.lines, fields }) as unknown as string[],
    };
    parsed = parse(normalized, options) as unknown as Array<{ end: number; fields: string[] }>;
  } catch (error) {
    if (error instanceof CsvError) {
      const line = Number((error as CsvError & { lines?: number }).lines ?? 1);
      throw fileError(fileName, line, `not readable as CSV: ${error.message}`);
    }
    throw error;
  }
  const [header, ...body] = parsed;
  const columns = (header?.fields ?? []).map((h) => h.trim());
  if (columns.length === 0 || columns.every((c) => c === '')) throw fileError(fileName, 1, 'the file is empty (no header line)');
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) throw fileError(fileName, 1, `the header names the column "${duplicate}" twice`);
  const format = detectFormat(columns, fileName);

  const records: CsvRecord[] = [];
  const problems: RowProblem[] = [];
  let previousEnd = header.end;
  for (const { end, fields } of body) {
    const line = previousEnd + 1;
    previousEnd = end;
    if (fields.every((f) => f.trim() === '')) continue;
    if (fields.length !== columns.length) {
      problems.push({ line, reason: `${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${columns.length}` });
      continue;
    }
    const values: Record<string, string> = {};
    for (let k = 0; k < columns.length; k++) values[columns[k]] = fields[k];
    records.push({ line, values });
  }
  if (records.length === 0 && problems.length === 0) throw fileError(fileName, 2, 'the file has a header but no rows');
  return { format, columns, records, problems };
}
