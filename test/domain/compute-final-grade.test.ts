import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRun } from '../../src/domain/course-runs/course-run-store.js';
import { findCourseRunByKey } from '../../src/domain/course-runs/course-run-store.js';
import { OpsError } from '../../src/domain/errors.js';
import { loadCachedGradeData, type CachedGradeData } from '../../src/domain/final-grades/cached-grade-data.js';
import { computeFinalGrade } from '../../src/domain/final-grades/compute-final-grade.js';
import { createTestWorld, type TestWorld } from '../helpers/world.js';

// spec 2.4 and T4–T8: the two formulas, odd percents, the formula switch, and what the result
// tells an operator (rule + inputs).

function runOf(overrides: Partial<CourseRun> = {}): CourseRun {
  return {
    id: 1,
    title: 'Run',
    courseKey: 'course-v1:MITx+T+1T2024',
    courseId: 10,
    courseTitle: 'Course',
    programId: 5,
    programTitle: 'Program',
    startDate: new Date('2024-01-10T00:00:00Z'),
    freezeGradeDate: new Date('2024-06-01T00:00:00Z'),
    backend: 'edxorg',
    isDiscontinued: false,
    courseHasExam: false,
    ...overrides,
  };
}

const enrollment = (mode: string) => ({ course_details: { course_id: 'course-v1:MITx+T+1T2024' }, is_active: true, mode, user: 'remote' });
const grade = (percent: unknown, passed: unknown = true) => ({
  course_id: 'course-v1:MITx+T+1T2024',
  username: 'remote',
  percent,
  passed,
  letter_grade: null,
});
const certificate = (type: string, status: string) => ({
  course_id: 'course-v1:MITx+T+1T2024',
  username: 'remote',
  certificate_type: type,
  status,
  download_url: '',
});

function errorOf(work: () => unknown): OpsError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(OpsError);
    return error as OpsError;
  }
  throw new Error('expected an OpsError');
}

describe('course without exam runs (T4, T5)', () => {
  // T4: (type, status) → passed, paid
  const T4: Array<[string, string, boolean, boolean]> = [
    ['verified', 'downloadable', true, true],
    ['honor', 'downloadable', true, true],
    ['audit', 'downloadable', true, false],
    ['verified', 'generating', false, true],
    ['honor', 'generating', false, true],
    ['verified', 'notpassing', false, true],
    ['honor', 'notpassing', false, true],
    ['verified', 'unverified', false, true],
    ['honor', 'unverified', false, true],
  ];
  it.each(T4)('certificate %s/%s → passed %s, paid %s, grade = current percent', (type, status, passed, paid) => {
    // The enrollment mode must not matter when a certificate is cached (audit here on purpose).
    const result = computeFinalGrade(runOf(), {
      enrollment: enrollment('audit'),
      certificate: certificate(type, status),
      currentGrade: grade(0.73, !passed),
    });
    expect(result).toMatchObject({ grade: 0.73, passed, paidOnEdx: paid, rule: 'course-without-exam-certificate' });
    expect(result.inputs).toMatchObject({ percent: 0.73, certificateType: type, certificateStatus: status, enrollmentMode: 'audit' });
  });

  it('a certificate alone is enough: no cached enrollment is needed', () => {
    const result = computeFinalGrade(runOf(), {
      enrollment: null,
      certificate: certificate('verified', 'downloadable'),
      currentGrade: grade(0.9),
    });
    expect(result).toMatchObject({ passed: true, paidOnEdx: true });
  });

  it.each([
    ['verified', true],
    ['honor', true],
    ['audit', false],
    ['professional', false],
    ['', false],
  ])('without a certificate, enrollment %s → never passed, paid %s (T5)', (mode, paid) => {
    // edX's own passed flag is ignored by this formula.
    const result = computeFinalGrade(runOf(), { enrollment: enrollment(mode), certificate: null, currentGrade: grade(0.95, true) });
    expect(result).toMatchObject({ grade: 0.95, passed: false, paidOnEdx: paid, rule: 'course-without-exam-no-certificate' });
    expect(result.inputs.enrollmentMode).toBe(mode);
  });

  it('without certificate and without enrollment the computation fails (missing-cached-data)', () => {
    const error = errorOf(() => computeFinalGrade(runOf(), { enrollment: null, certificate: null, currentGrade: grade(0.5) }));
    expect(error.code).toBe('missing-cached-data');
    expect(error.message).toMatch(/enrollment/);
  });

  it('on MITx Online the explanation says certificates are never fetched (E18)', () => {
    const result = computeFinalGrade(runOf({ backend: 'mitxonline' }), {
      enrollment: enrollment('verified'),
      certificate: null,
      currentGrade: grade(0.99, true),
    });
    expect(result.passed).toBe(false);
    expect(result.explanation.join(' ')).toMatch(/never fetched/);
  });
});

describe('course with an exam run (T6)', () => {
  it.each([
    [true, 'verified', true],
    [false, 'verified', true],
    [true, 'honor', true],
    [true, 'audit', false],
    [false, 'audit', false],
  ])('passed %s comes from edX; enrollment %s → paid %s', (passed, mode, paid) => {
    const result = computeFinalGrade(runOf({ courseHasExam: true }), {
      enrollment: enrollment(mode),
      certificate: null,
      currentGrade: grade(0.61, passed),
    });
    expect(result).toMatchObject({ grade: 0.61, passed, paidOnEdx: paid, rule: 'course-with-exam' });
    expect(result.inputs).toMatchObject({ currentGradePassed: passed, enrollmentMode: mode });
  });

  it('a verified certificate changes nothing', () => {
    const cached: CachedGradeData = { enrollment: enrollment('audit'), certificate: null, currentGrade: grade(0.4, false) };
    const without = computeFinalGrade(runOf({ courseHasExam: true }), cached);
    const withCert = computeFinalGrade(runOf({ courseHasExam: true }), { ...cached, certificate: certificate('verified', 'downloadable') });
    expect({ ...withCert, inputs: undefined, explanation: undefined }).toEqual({ ...without, inputs: undefined, explanation: undefined });
    expect(withCert).toMatchObject({ passed: false, paidOnEdx: false });
  });

  it.each([null, 'absent', 'true', 1, 0])('passed %j from edX is unusable: invalid-edx-data', (passed) => {
    const currentGrade: Record<string, unknown> = grade(0.7, passed);
    if (passed === 'absent') delete currentGrade.passed;
    const error = errorOf(() =>
      computeFinalGrade(runOf({ courseHasExam: true }), { enrollment: enrollment('verified'), certificate: null, currentGrade }),
    );
    expect(error.code).toBe('invalid-edx-data');
    expect(error.message).toContain('passed');
  });

  it('needs the cached enrollment (missing-cached-data)', () => {
    expect(
      errorOf(() => computeFinalGrade(runOf({ courseHasExam: true }), { enrollment: null, certificate: null, currentGrade: grade(0.7) }))
        .code,
    ).toBe('missing-cached-data');
  });
});

describe('odd percents (T7, E12)', () => {
  it.each(['', null, ' ', 'foo', undefined, [], {}])('percent %j → grade 0.0 in both formulas', (percent) => {
    const exam = computeFinalGrade(runOf({ courseHasExam: true }), {
      enrollment: enrollment('verified'),
      certificate: null,
      currentGrade: grade(percent, false),
    });
    const noExam = computeFinalGrade(runOf(), { enrollment: enrollment('verified'), certificate: null, currentGrade: grade(percent) });
    expect(exam.grade).toBe(0);
    expect(noExam.grade).toBe(0);
    expect(exam.inputs.percent).toEqual(percent);
  });

  it.each([
    ['0.75', 0.75],
    [' 0.5\n', 0.5],
    ['1e-1', 0.1],
    [1.5, 1.5],
    [0, 0],
    ['1_0', 10],
    [true, 1],
    [false, 0],
    ['.5', 0.5],
    ['5.', 5],
  ])('percent %j → grade %s, as Python float() reads it', (percent, expected) => {
    expect(computeFinalGrade(runOf(), { enrollment: enrollment('verified'), certificate: null, currentGrade: grade(percent) }).grade).toBe(
      expected,
    );
  });

  it.each(['nan', 'inf', '-0.1', -0.25, '-inf'])('percent %j is no valid FinalGrade (invalid-edx-data)', (percent) => {
    expect(
      errorOf(() => computeFinalGrade(runOf(), { enrollment: enrollment('verified'), certificate: null, currentGrade: grade(percent) }))
        .code,
    ).toBe('invalid-edx-data');
  });

  it('no cached current grade is an error, not a 0.0 (spec 2.4)', () => {
    const error = errorOf(() => computeFinalGrade(runOf(), { enrollment: enrollment('verified'), certificate: null, currentGrade: null }));
    expect(error.code).toBe('missing-cached-data');
    expect(error.message).toMatch(/current grade/);
  });

  it('a run without a course cannot be graded (E19)', () => {
    expect(
      errorOf(() =>
        computeFinalGrade(runOf({ courseId: null }), { enrollment: enrollment('verified'), certificate: null, currentGrade: grade(0.5) }),
      ).code,
    ).toBe('missing-cached-data');
  });
});

describe('formula selection from the database (T8)', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await createTestWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it("a run whose course has an exam run takes the exam formula; another run the non-exam one, with that run's cached rows", async () => {
    const examRun = await w.addRun({ exam: true });
    const plainRun = await w.addRun();
    const other = await w.addRun();
    // Same learner data on both runs: edX says passed, audit track, no certificate.
    const spec = { enrollment: 'audit', grade: { percent: 0.66, passed: true } } as const;
    const a = await w.addLearner(examRun, spec);
    const b = await w.addLearner(plainRun, spec);
    // A second run's rows of learner b must not leak into the computation.
    await w
      .db('dashboard_cachedcurrentgrade')
      .insert({ user_id: b.id, course_run_id: other.id, data: JSON.stringify({ percent: 0.1, passed: false }) });

    const exam = computeFinalGrade(await findCourseRunByKey(w.db, examRun.key), await loadCachedGradeData(w.db, a.id, examRun.id));
    expect(exam).toMatchObject({ rule: 'course-with-exam', grade: 0.66, passed: true, paidOnEdx: false });
    const plain = computeFinalGrade(await findCourseRunByKey(w.db, plainRun.key), await loadCachedGradeData(w.db, b.id, plainRun.id));
    expect(plain).toMatchObject({ rule: 'course-without-exam-no-certificate', grade: 0.66, passed: false, paidOnEdx: false });
    expect(plain.explanation[0]).toContain('0.66');
  });

  it('a cached verified certificate decides a non-exam course', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, {
      enrollment: 'verified',
      grade: { percent: 0.88, passed: false },
      certificate: { type: 'verified', status: 'downloadable' },
    });
    const result = computeFinalGrade(await findCourseRunByKey(w.db, run.key), await loadCachedGradeData(w.db, l.id, run.id));
    expect(result).toMatchObject({ rule: 'course-without-exam-certificate', grade: 0.88, passed: true, paidOnEdx: true });
  });
});
