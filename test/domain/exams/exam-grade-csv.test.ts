import { describe, expect, it } from 'vitest';
import { ExamFileError } from '../../../src/domain/exams/exam-file-error.js';
import { parseExamGradeCsv } from '../../../src/domain/exams/exam-grade-csv.js';
import { scoredExamGrade } from '../../../src/domain/exams/exam-grade-rules.js';

// The two CSV files of spec 2.12, told apart by their header, with line numbers an operator can find.

function fileError(text: string): ExamFileError {
  try {
    parseExamGradeCsv(text, 'grades.csv');
  } catch (error) {
    if (error instanceof ExamFileError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

describe('parseExamGradeCsv', () => {
  it('reads the exam-grade import file, keeping every column and the line each row starts on', () => {
    const parsed = parseExamGradeCsv(
      '\ufeffusername,course_id,no_show,score,grade,client_authorization_id\r\n' +
        'judy.kowalski,3,0,74.5,pass,"mm-1"\r\n' +
        '\r\n' +
        'alice.martin,3,1,,,"a note\r\nover two lines"\r\n' +
        'bob.o,5,0,61,fail,x\r\n',
      'grades.csv',
    );
    expect(parsed.format).toBe('exam-grades');
    expect(parsed.columns).toEqual(['username', 'course_id', 'no_show', 'score', 'grade', 'client_authorization_id']);
    expect(parsed.records.map((r) => r.line)).toEqual([2, 4, 6]);
    expect(parsed.records[0].values).toEqual({
      username: 'judy.kowalski',
      course_id: '3',
      no_show: '0',
      score: '74.5',
      grade: 'pass',
      client_authorization_id: 'mm-1',
    });
    expect(parsed.records[1].values.client_authorization_id).toBe('a note\nover two lines');
    expect(parsed.problems).toEqual([]);
  });

  it('reads the adjustment file keyed by proctoredexam_id', () => {
    const parsed = parseExamGradeCsv('proctoredexam_id,score\n12,83\n13,61.5\n', 'curve.csv');
    expect(parsed.format).toBe('adjustment');
    expect(parsed.records).toEqual([
      { line: 2, values: { proctoredexam_id: '12', score: '83' } },
      { line: 3, values: { proctoredexam_id: '13', score: '61.5' } },
    ]);
  });

  it('reports a row with the wrong number of fields by its line, and skips blank rows', () => {
    const parsed = parseExamGradeCsv('proctoredexam_id,score\n12,83\n , \n13\n14,70,extra\n', 'curve.csv');
    expect(parsed.records.map((r) => r.line)).toEqual([2]);
    expect(parsed.problems).toEqual([
      { line: 4, reason: '1 field where the header has 2' },
      { line: 5, reason: '3 fields where the header has 2' },
    ]);
  });

  it('refuses a header that is neither file, naming both headers it expects', () => {
    const error = fileError('user,course,score\nx,1,80\n');
    expect(error.fileLevel).toBe(true);
    expect(error.problems).toEqual([{ line: 1, reason: expect.stringContaining('matches neither file') }]);
    expect(error.message).toContain('proctoredexam_id,score');
    expect(error.exitCode).toBe(1);
  });

  it('refuses an import header without no_show, a doubled column, a header mixing both files, an empty file, no rows', () => {
    expect(fileError('username,course_id,score,grade\nx,1,80,pass\n').problems[0].reason).toContain('lacks the column no_show');
    expect(fileError('proctoredexam_id,score,score\n1,2,3\n').problems[0].reason).toContain('"score" twice');
    expect(fileError('proctoredexam_id,username,course_id,score\n1,a,2,3\n').problems[0].reason).toContain('neither file');
    expect(fileError('proctoredexam_id\n1\n').problems[0].reason).toContain('no score column');
    expect(fileError('').problems[0].reason).toContain('empty');
    expect(fileError('proctoredexam_id,score\n\n').problems[0]).toEqual({ line: 2, reason: 'the file has a header but no rows' });
  });

  it('refuses a file that is not CSV at the line where it breaks', () => {
    const error = fileError('proctoredexam_id,score\n1,80\n"2,81\n');
    expect(error.problems[0].line).toBe(3);
    expect(error.problems[0].reason).toContain('not readable as CSV');
  });
});

describe('set_score (spec 2.12, T20)', () => {
  it('passes at or above the passing score, with percentage_grade = score / 100', () => {
    expect(scoredExamGrade(65, 60)).toEqual({ score: 65, percentageGrade: 0.65, passed: true, grade: 'pass' });
    expect(scoredExamGrade(60, 60)).toEqual({ score: 60, percentageGrade: 0.6, passed: true, grade: 'pass' });
    expect(scoredExamGrade(55, 60)).toEqual({ score: 55, percentageGrade: 0.55, passed: false, grade: 'fail' });
  });
});
