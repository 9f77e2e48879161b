import { describe, expect, it } from 'vitest';
import type { ExamGradeImportResult } from '../../src/domain/exams/exam-grade-import.js';
import type { ExamRunState } from '../../src/domain/exams/exam-run-state.js';
import { examSteps, firstOpenStep, NO_SESSION, type ExamSession } from '../../src/screens/exam-run-steps.js';

// The order rules of the exam run checklist: which step Enter may do, and why not yet.

const state = (over: Partial<ExamRunState> = {}): ExamRunState => ({
  id: 7,
  courseId: 3,
  course: '14.73x',
  courseTitle: 'The Challenges of Global Poverty',
  programId: 1,
  program: 'DEDP',
  semester: '3T2026',
  examSeriesCode: 'MITx_14.73x',
  dateFirstSchedulable: new Date('2026-10-12T00:00:00Z'),
  dateLastSchedulable: new Date('2026-11-01T00:00:00Z'),
  dateGradesAvailable: new Date('2026-12-13T00:00:00Z'),
  passingScore: 60,
  authorizedLearners: 3,
  grades: { total: 0, passed: 0 },
  released: false,
  combinedGrades: { due: 0, present: 0 },
  certificates: { courseCertificates: 0, programCertificates: 0 },
  populate: { applicable: true, pending: { created: 0, updated: 0 } },
  generate: { applicable: true, pending: { courseCertificates: 0, programCertificates: 0 } },
  ...over,
});

const check = (over: Partial<ExamGradeImportResult> = {}): ExamGradeImportResult => ({
  fileName: 'grades.csv',
  format: 'exam-grades',
  rows: 2,
  created: 1,
  modified: 1,
  unchanged: 0,
  noShows: { marked: 0, unchanged: 0 },
  examRuns: [{ id: 7, courseId: 3, course: '14.73x', released: false, dateGradesAvailable: '2026-12-13T00:00:00.000Z' }],
  programIds: [1],
  warnings: [],
  ...over,
});

const session = (over: Partial<ExamSession> = {}): ExamSession => ({
  ...NO_SESSION,
  file: { path: '/tmp/grades.csv', text: '', check: check() },
  ...over,
});
const byId = (steps: ReturnType<typeof examSteps>) => Object.fromEntries(steps.map((s) => [s.id, s]));

describe('exam run checklist steps', () => {
  it('without a file, only the file step can be done, and the checklist starts there', () => {
    const steps = examSteps(state(), NO_SESSION);
    expect(steps.map((s) => s.label)).toEqual([
      'adjusted grades received',
      'projection reviewed',
      'counts confirmed',
      'loaded',
      'released',
      'combined grades updated',
      'certificates generated',
    ]);
    const s = byId(steps);
    expect(s.reviewed.blocked).toBe('check a file of this exam run first');
    expect(s.loaded.blocked).toBe('check a file of this exam run first');
    expect(s.released.blocked).toBe('no grades to release: load them first');
    expect(s.certificates.blocked).toBe('release the exam run first');
    expect(firstOpenStep(steps)).toBe(0);
  });

  it('a file of another exam run is flagged and does not count as received', () => {
    const other = check({
      examRuns: [{ id: 9, courseId: 5, course: '14.740x', released: false, dateGradesAvailable: '2026-12-13T00:00:00.000Z' }],
    });
    const s = byId(examSteps(state(), session({ file: { path: '/tmp/x.csv', text: '', check: other } })));
    expect(s.received).toMatchObject({ outcome: 'warn', done: false });
    expect(s.received.detail).toContain('writes no grade of this exam run (it writes exam run 9)');
  });

  it('loading waits for the confirmed counts; the release for the file to be loaded', () => {
    let s = byId(examSteps(state({ grades: { total: 2, passed: 2 } }), session({ reviewed: true })));
    expect(s.loaded.blocked).toBe('confirm the counts first');
    expect(s.released.blocked).toBe('load the file first');
    s = byId(
      examSteps(
        state({ grades: { total: 3, passed: 3 } }),
        session({ reviewed: true, confirmed: true, file: { path: '', text: '', check: check({ created: 0, modified: 0, unchanged: 2 }) } }),
      ),
    );
    expect(s.loaded).toMatchObject({ done: true, blocked: null });
    expect(s.released.blocked).toBeNull();
  });

  it('after the release: combined grades pending until populate changes nothing, certificates wait for them', () => {
    const released = { grades: { total: 3, passed: 3 }, released: true };
    let s = byId(examSteps(state({ ...released, populate: { applicable: true, pending: { created: 2, updated: 0 } } }), NO_SESSION));
    expect(s.combined).toMatchObject({ done: false, detail: 'would create 2, update 0', blocked: null });
    expect(s.certificates.blocked).toBe('update the combined grades first');
    s = byId(
      examSteps(
        state({
          ...released,
          combinedGrades: { due: 2, present: 2 },
          generate: { applicable: true, pending: { courseCertificates: 2, programCertificates: 1 } },
        }),
        NO_SESSION,
      ),
    );
    expect(s.combined).toMatchObject({ done: true, detail: 'up to date: 2 of 2 passers have one' });
    expect(s.certificates).toMatchObject({ done: false, blocked: null, detail: 'would create 2 course and 1 program certificates' });
  });

  it('a course where populate does not apply says why instead of a state', () => {
    const s = byId(
      examSteps(
        state({ released: true, populate: { applicable: false, reason: 'course 14.73x (id 3) has no frozen course run yet' } }),
        NO_SESSION,
      ),
    );
    expect(s.combined).toMatchObject({ outcome: 'warn', blocked: 'course 14.73x (id 3) has no frozen course run yet' });
    expect(s.certificates.blocked).toBeNull();
  });
});
