import { beforeAll, describe, expect, it } from 'vitest';
import { populateCombinedFinalGrades } from '../../../src/domain/combined-grades/populate-combined-final-grades.js';
import { generateCertificates } from '../../../src/domain/exams/certificates.js';
import { releaseExamRun } from '../../../src/domain/exams/exam-run-release.js';
import { examRunState, listExamRuns } from '../../../src/domain/exams/exam-run-state.js';
import { OpsError } from '../../../src/domain/errors.js';
import { createExamWorld, daysFrom, NOW, type ExamWorld } from './exam-world.js';

// The state of one exam run's runbook (issue 9 §7): what the console's checklist shows as facts.

let w: ExamWorld;

beforeAll(async () => {
  w = await createExamWorld();
});

const auditRows = async () => Number((await w.db('gradeops_audit_log').count({ n: '*' }))[0].n);

describe('examRunState', () => {
  it('follows the runbook: imported → released → combined grades → certificates, each step read from the database', async () => {
    const program = await w.addProgram();
    const course = await w.addCourse(program, { number: '9.01x' });
    const run = await w.addRun(course);
    const examRun = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, 5) });
    const sat = await w.addLearner({ enrolIn: [program] });
    const failed = await w.addLearner({ enrolIn: [program] });
    const absent = await w.addLearner({ enrolIn: [program] });
    for (const l of [sat, failed, absent]) {
      await w.addFinalGrade(l.id, run, 0.8, true);
      await w.authorize(l.id, course, examRun);
    }
    await w.addExamGrade(sat.id, course, examRun, 75);
    await w.addExamGrade(failed.id, course, examRun, 40);
    const ctx = w.ctx();

    const audits = await auditRows();
    let state = await examRunState(ctx, examRun);
    expect(state).toMatchObject({
      id: examRun,
      course: '9.01x',
      programId: program,
      authorizedLearners: 3,
      grades: { total: 2, passed: 1 },
      released: false,
      combinedGrades: { due: 0, present: 0 },
      certificates: { courseCertificates: 0, programCertificates: 0 },
      populate: { applicable: true, pending: { created: 0, updated: 0 } },
      generate: { applicable: true, pending: { courseCertificates: 0 } },
    });
    // Asking writes nothing (the dry runs of populate and generate roll back).
    expect(await auditRows()).toBe(audits);
    expect(await w.db('grades_combinedfinalgrade').where({ course_id: course })).toHaveLength(0);

    await releaseExamRun(ctx, examRun);
    state = await examRunState(ctx, examRun);
    expect(state).toMatchObject({
      released: true,
      combinedGrades: { due: 1, present: 0 },
      populate: { applicable: true, pending: { created: 1, updated: 0 } },
      generate: { applicable: true, pending: { courseCertificates: 1 } },
    });

    await populateCombinedFinalGrades(ctx, { courseId: course });
    state = await examRunState(ctx, examRun);
    expect(state.combinedGrades).toEqual({ due: 1, present: 1 });
    expect(state.populate).toEqual({ applicable: true, pending: { created: 0, updated: 0 } });

    await generateCertificates(ctx, { programId: program });
    state = await examRunState(ctx, examRun);
    expect(state.certificates.courseCertificates).toBe(1);
    expect(state.generate).toEqual({ applicable: true, pending: { courseCertificates: 0, programCertificates: 0 } });
  });

  it('a course without a frozen run: populate does not apply here, and the state says why', async () => {
    const program = await w.addProgram();
    const course = await w.addCourse(program);
    await w.addRun(course, { frozen: false });
    const examRun = await w.addExamRun(course);
    const state = await examRunState(w.ctx(), examRun);
    expect(state.populate).toEqual({ applicable: false, reason: expect.stringContaining('has no frozen course run yet') });
  });

  it('an unknown exam run is an OpsError naming the id', async () => {
    const error = await examRunState(w.ctx(), 999_999).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsError);
    expect((error as OpsError).message).toBe('no exam run has the id 999999');
  });
});

describe('listExamRuns', () => {
  it('lists each exam run with its course, program, authorized learners, grades and whether it is released', async () => {
    const program = await w.addProgram();
    const course = await w.addCourse(program, { number: '9.02x' });
    const released = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, -1), lastSchedulable: daysFrom(NOW, -30) });
    const pending = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, 3), lastSchedulable: daysFrom(NOW, -5) });
    const learner = await w.addLearner();
    await w.authorize(learner.id, course, pending);
    await w.addExamGrade(learner.id, course, pending, 90);
    const runs = (await listExamRuns(w.db, NOW)).filter((r) => r.courseId === course);
    expect(runs.map((r) => r.id)).toEqual([pending, released]); // latest first
    expect(runs[0]).toMatchObject({
      course: '9.02x',
      programId: program,
      authorizedLearners: 1,
      grades: { total: 1, passed: 1 },
      released: false,
    });
    expect(runs[1]).toMatchObject({ authorizedLearners: 0, grades: { total: 0, passed: 0 }, released: true });
  });
});
