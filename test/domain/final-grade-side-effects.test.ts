import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findCourseRunByKey } from '../../src/domain/course-runs/course-run-store.js';
import { freezeOneUser, freezeUserOnRun } from '../../src/domain/final-grades/freeze-user.js';
import { resyncFinalGrade } from '../../src/domain/final-grades/resync.js';
import { FreezeEmitter } from '../../src/domain/freeze/freeze-events.js';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import {
  createTestWorld,
  daysFromNow,
  insertFinalGrade,
  type ExamRunSpec,
  type LearnerSpec,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';

// spec 2.8: the side effects MicroMasters' signals run on a FinalGrade save, which gradeops runs
// itself after freezing (create) or resyncing (update or create): the combined final grade (2.11),
// the program letter (2.14) and exam authorizations.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const PASSED_WITH_CERTIFICATE: LearnerSpec = {
  grade: { percent: 0.8, passed: true },
  certificate: { type: 'verified', status: 'downloadable' },
};
const SCHEDULABLE_NOW: ExamRunSpec = {
  firstSchedulable: daysFromNow(-5),
  lastSchedulable: daysFromNow(30),
  gradesAvailable: daysFromNow(60),
};

const combinedOf = (userId: number, courseId: number) =>
  w.db('grades_combinedfinalgrade').where({ user_id: userId, course_id: courseId }).first();
const lettersOf = (userId: number, programId: number) =>
  w.db('grades_micromastersprogramcommendation').where({ user_id: userId, program_id: programId });
const authorizationsOf = (userId: number, courseId: number) =>
  w.db('exams_examauthorization').where({ user_id: userId, course_id: courseId }).orderBy('id');
const examProfileOf = (userId: number) =>
  w.db('exams_examprofile as ep').join('profiles_profile as p', 'p.id', 'ep.profile_id').where('p.user_id', userId).first('ep.*');
const gradeopsAudits = (userId: number, action: string) => w.db('gradeops_audit_log').where({ user_id: userId, action }).orderBy('id');

/** A course with one exam run whose grades were released 20 days ago, and a run of it. */
async function examCourse(
  options: { programId?: number; examRun?: ExamRunSpec } = {},
): Promise<{ courseId: number; examRunId: number; run: TestRun }> {
  const courseId = await w.addCourse({ programId: options.programId });
  const examRunId = await w.addExamRun(courseId, options.examRun);
  const run = await w.addRun({ courseId });
  return { courseId, examRunId, run };
}

describe('combined final grade on freeze (spec 2.11)', () => {
  it.each([
    [0.8, 80, 80.0],
    [0.57, 62.5, 60.3],
    [0.65, 70.25, 68.2],
    [0.705, 61.0, 64.8],
  ])(
    'a freeze with final grade %s and a released passing exam score %s stores the combined grade %s',
    async (finalGrade, examScore, combined) => {
      const { courseId, examRunId, run } = await examCourse();
      const l = await w.addLearner(run, { grade: { percent: finalGrade, passed: true } });
      await w.addExamGrade(l.id, courseId, examRunId, { score: examScore });

      const result = await freezeOneUser(w.ctx(), l.username, run.key);

      expect(result.outcome).toBe('frozen');
      if (result.outcome !== 'frozen') return;
      expect(result.sideEffects.errors).toEqual([]);
      expect(result.sideEffects.combinedFinalGrade).toMatchObject({
        outcome: 'created',
        previousGrade: null,
        combinedFinalGrade: { grade: combined },
      });
      expect(await combinedOf(l.id, courseId)).toMatchObject({ grade: combined });
    },
  );

  it('writes the reference audit row (acting user NULL) and a gradeops audit row naming the operator', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const l = await w.addLearner(run, { grade: { percent: 0.65, passed: true } });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 70.25 });

    await freezeOneUser(w.ctx({ operator: 'ops-carol' }), l.username, run.key);

    const row = await combinedOf(l.id, courseId);
    const audits = await w.db('grades_combinedfinalgradeaudit').where('combined_final_grade_id', row.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ acting_user_id: null, data_before: null });
    expect(audits[0].data_after).toEqual({
      id: row.id,
      user: l.id,
      course: courseId,
      grade: 68.2,
      created_on: new Date(row.created_on).toISOString(),
      updated_on: new Date(row.updated_on).toISOString(),
    });
    expect(audits[0].data_after.created_on).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ours = await gradeopsAudits(l.id, 'combined-final-grade');
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      operator: 'ops-carol',
      course_key: run.key,
      course_run_id: run.id,
      username: l.username,
      data_before: null,
    });
    expect(ours[0].data_after).toMatchObject({ grade: 68.2, course: courseId });
  });

  it('a course without an exam run gets no combined grade, whatever exam grades exist', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, PASSED_WITH_CERTIFICATE);
    await w.addExamGrade(l.id, run.courseId!, null, { score: 90 });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.combinedFinalGrade).toEqual({
      outcome: 'skipped',
      reason: 'course-without-exam',
    });
    expect(await combinedOf(l.id, run.courseId!)).toBeUndefined();
    expect(await gradeopsAudits(l.id, 'combined-final-grade')).toHaveLength(0);
  });

  it('no combined grade without a released passing exam grade: failed, unreleased and run-less grades do not count', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const unreleased = await w.addExamRun(courseId, {
      firstSchedulable: daysFromNow(-10),
      lastSchedulable: daysFromNow(-5),
      gradesAvailable: daysFromNow(3),
    });
    const l = await w.addLearner(run, { grade: { percent: 0.9, passed: true } });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 40, passed: false });
    await w.addExamGrade(l.id, courseId, unreleased, { score: 95 });
    await w.addExamGrade(l.id, courseId, null, { score: 99 });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.combinedFinalGrade).toEqual({
      outcome: 'skipped',
      reason: 'no-released-passing-exam-grade',
    });
    expect(await combinedOf(l.id, courseId)).toBeUndefined();
    expect(await gradeopsAudits(l.id, 'combined-final-grade')).toHaveLength(0);
  });

  it('a failed freeze-time grade gives no combined grade; an existing combined grade is never removed', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const l = await w.addLearner(run, { grade: { percent: 0.3, passed: false } });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 85 });
    const at = new Date('2024-02-01T00:00:00Z');
    await w.db('grades_combinedfinalgrade').insert({ user_id: l.id, course_id: courseId, grade: 75, created_on: at, updated_on: at });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.combinedFinalGrade).toEqual({
      outcome: 'skipped',
      reason: 'no-passed-final-grade',
    });
    expect(await combinedOf(l.id, courseId)).toMatchObject({ grade: 75, updated_on: at });
  });

  it('uses the best passed final grade of any run of the course (discontinued too) and the best released exam grade', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const l = await w.addLearner(run, { grade: { percent: 0.6, passed: true } });
    const earlier = await w.addRun({ courseId, startDate: new Date('2023-01-10T00:00:00Z') });
    await w.db('courses_courserun').where('id', earlier.id).update({ is_discontinued: true });
    await insertFinalGrade(w.db, l.id, earlier.id, { grade: 0.9, passed: true, status: 'complete' });
    const secondExamRun = await w.addExamRun(courseId, { gradesAvailable: daysFromNow(-1) });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 70 });
    await w.addExamGrade(l.id, courseId, secondExamRun, { score: 80 });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    // round(0.9 * 100 * 0.4 + 80 * 0.6, 1) = 84.0, not 0.6 with 70.
    expect(await combinedOf(l.id, courseId)).toMatchObject({ grade: 84 });
    expect(result.outcome === 'frozen' && result.sideEffects.combinedFinalGrade).toMatchObject({
      bestFinalGrade: { grade: 0.9, courseRunId: earlier.id },
      bestExamGrade: { score: 80 },
    });
  });
});

describe('combined final grade on resync apply', () => {
  it('recomputes it when the FinalGrade is updated, auditing the previous value', async () => {
    const { courseId, examRunId, run } = await examCourse();
    // Frozen earlier as failed (stale edX data), now edX says 0.8 passed.
    const l = await w.addLearner(run, { grade: { percent: 0.8, passed: true }, cache: { grade: { percent: 0.2, passed: false } } });
    await insertFinalGrade(w.db, l.id, run.id, { grade: 0.2, passed: false, status: 'complete', paid: true });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 90 });
    const at = new Date('2024-02-01T00:00:00Z');
    const [{ id }] = await w
      .db('grades_combinedfinalgrade')
      .insert({ user_id: l.id, course_id: courseId, grade: 61.5, created_on: at, updated_on: at })
      .returning('id');

    const dryRun = await resyncFinalGrade(w.ctx(), l.username, run.key);
    expect(dryRun.sideEffects).toBeNull();
    expect(await combinedOf(l.id, courseId)).toMatchObject({ grade: 61.5 });

    const result = await resyncFinalGrade(w.ctx({ operator: 'ops-dan' }), l.username, run.key, { apply: true });

    expect(result.sideEffects?.combinedFinalGrade).toMatchObject({
      outcome: 'updated',
      previousGrade: 61.5,
      combinedFinalGrade: { id, grade: 86 },
    });
    expect(result.sideEffects?.programLetter).toEqual({ outcome: 'skipped', reason: 'not-a-create' });
    expect(await combinedOf(l.id, courseId)).toMatchObject({ id, grade: 86 });
    const [audit] = await w.db('grades_combinedfinalgradeaudit').where('combined_final_grade_id', id);
    expect(audit.data_before).toMatchObject({ id, grade: 61.5, created_on: at.toISOString() });
    expect(audit.data_after).toMatchObject({ id, grade: 86, created_on: at.toISOString() });
    expect(await gradeopsAudits(l.id, 'combined-final-grade')).toEqual([expect.objectContaining({ operator: 'ops-dan' })]);
  });
});

describe('program letter on FinalGrade creation (spec 2.14)', () => {
  /** A program without exams: core course A, electives set {B, C} requiring one. */
  async function electivesProgram() {
    const programId = await w.addProgram();
    const core = await w.addCourse({ programId });
    const b = await w.addCourse({ programId });
    const c = await w.addCourse({ programId });
    await w.addElectivesSet(programId, 1, [b, c]);
    return {
      programId,
      core: await w.addRun({ courseId: core }),
      electiveB: await w.addRun({ courseId: b }),
      electiveC: await w.addRun({ courseId: c }),
    };
  }

  it('is created when the freeze completes the program (core course + one elective), and not a second time', async () => {
    const p = await electivesProgram();
    const l = await w.addLearner(p.core, PASSED_WITH_CERTIFICATE);
    await insertFinalGrade(w.db, l.id, p.electiveB.id, { grade: 0.7, passed: true, status: 'complete' });

    const result = await freezeOneUser(w.ctx({ operator: 'ops-erin' }), l.username, p.core.key);

    expect(result.outcome === 'frozen' && result.sideEffects.programLetter).toMatchObject({ outcome: 'created' });
    const letters = await lettersOf(l.id, p.programId);
    expect(letters).toHaveLength(1);
    expect(letters[0].is_active).toBe(true);
    expect(letters[0].uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await gradeopsAudits(l.id, 'program-letter')).toEqual([
      expect.objectContaining({ operator: 'ops-erin', course_run_id: p.core.id, data_before: null }),
    ]);

    // A later FinalGrade in the program (the other elective) finds the active letter.
    await w.enrollLearner(l, p.electiveC, PASSED_WITH_CERTIFICATE);
    const again = await freezeUserOnRun(w.ctx(), await findCourseRunByKey(w.db, p.electiveC.key), l.id);
    expect(again.outcome).toBe('frozen');
    expect(again.outcome === 'frozen' && again.sideEffects.programLetter).toMatchObject({
      outcome: 'skipped',
      reason: 'already-has-letter',
    });
    expect(await lettersOf(l.id, p.programId)).toEqual(letters);
  });

  it('is not created while an electives set or a core course is missing (T24)', async () => {
    const p = await electivesProgram();
    // Two electives passed, core not: freezing the second elective completes nothing.
    const l = await w.addLearner(p.electiveC, PASSED_WITH_CERTIFICATE);
    await insertFinalGrade(w.db, l.id, p.electiveB.id, { grade: 0.7, passed: true, status: 'complete' });
    const first = await freezeOneUser(w.ctx(), l.username, p.electiveC.key);
    expect(first.outcome === 'frozen' && first.sideEffects.programLetter).toMatchObject({
      outcome: 'skipped',
      reason: 'program-not-completed',
    });
    expect(await lettersOf(l.id, p.programId)).toHaveLength(0);

    // The core course alone, without any elective: no letter either.
    const m = await w.addLearner(p.core, PASSED_WITH_CERTIFICATE);
    const second = await freezeOneUser(w.ctx(), m.username, p.core.key);
    expect(second.outcome === 'frozen' && second.sideEffects.programLetter).toMatchObject({
      outcome: 'skipped',
      reason: 'program-not-completed',
    });
    expect(await lettersOf(m.id, p.programId)).toHaveLength(0);
    expect(await gradeopsAudits(m.id, 'program-letter')).toHaveLength(0);
  });

  it('a failed freeze-time grade does not complete the program', async () => {
    const p = await electivesProgram();
    const l = await w.addLearner(p.core, {
      grade: { percent: 0.4, passed: false },
      certificate: { type: 'verified', status: 'notpassing' },
    });
    await insertFinalGrade(w.db, l.id, p.electiveB.id, { grade: 0.7, passed: true, status: 'complete' });
    await freezeOneUser(w.ctx(), l.username, p.core.key);
    expect(await lettersOf(l.id, p.programId)).toHaveLength(0);
  });

  it('reactivates an inactive letter, keeping its uuid', async () => {
    const p = await electivesProgram();
    const l = await w.addLearner(p.core, PASSED_WITH_CERTIFICATE);
    await insertFinalGrade(w.db, l.id, p.electiveB.id, { grade: 0.7, passed: true, status: 'complete' });
    const at = new Date('2024-03-01T00:00:00Z');
    const uuid = '0b0e7c8e-4b5f-4c1e-9d55-3a6f1f0e2a11';
    await w
      .db('grades_micromastersprogramcommendation')
      .insert({ uuid, user_id: l.id, program_id: p.programId, is_active: false, created_on: at, updated_on: at });

    const result = await freezeOneUser(w.ctx(), l.username, p.core.key);

    expect(result.outcome === 'frozen' && result.sideEffects.programLetter).toMatchObject({
      outcome: 'reactivated',
      letter: { uuid, isActive: true },
    });
    expect(await lettersOf(l.id, p.programId)).toEqual([expect.objectContaining({ uuid, is_active: true })]);
    const [audit] = await gradeopsAudits(l.id, 'program-letter');
    expect(audit.data_before).toMatchObject({ uuid, is_active: false });
    expect(audit.data_after).toMatchObject({ uuid, is_active: true });
  });

  it('in a program with exams only FinalGrades of runs starting after 2022-09-01 count, of any status', async () => {
    const programId = await w.addProgram();
    const { run: examRun } = await examCourse({ programId });
    const otherCourse = await w.addCourse({ programId });
    const oldRun = await w.addRun({ courseId: otherCourse, startDate: new Date('2021-10-01T00:00:00Z') });
    const newRun = await w.addRun({ courseId: otherCourse, startDate: new Date('2022-10-01T00:00:00Z') });

    const before = await w.addLearner(examRun, { grade: { percent: 0.8, passed: true } });
    await insertFinalGrade(w.db, before.id, oldRun.id, { grade: 0.8, passed: true, status: 'complete' });
    await freezeOneUser(w.ctx(), before.username, examRun.key);
    expect(await lettersOf(before.id, programId)).toHaveLength(0);

    const after = await w.addLearner(examRun, { grade: { percent: 0.8, passed: true } });
    await insertFinalGrade(w.db, after.id, newRun.id, { grade: 0.8, passed: true, status: 'pending' });
    await freezeOneUser(w.ctx(), after.username, examRun.key);
    expect(await lettersOf(after.id, programId)).toHaveLength(1);
  });

  it('a resync that updates a FinalGrade creates no letter; one that creates the FinalGrade does', async () => {
    const p = await electivesProgram();
    const updated = await w.addLearner(p.core, PASSED_WITH_CERTIFICATE);
    await insertFinalGrade(w.db, updated.id, p.electiveB.id, { grade: 0.7, passed: true, status: 'complete' });
    await insertFinalGrade(w.db, updated.id, p.core.id, { grade: 0.8, passed: true, status: 'pending', paid: true });
    const viaUpdate = await resyncFinalGrade(w.ctx(), updated.username, p.core.key, { apply: true });
    expect(viaUpdate.applied).toBe(true);
    expect(await lettersOf(updated.id, p.programId)).toHaveLength(0);

    const createdBy = await w.addLearner(p.core, PASSED_WITH_CERTIFICATE);
    await insertFinalGrade(w.db, createdBy.id, p.electiveC.id, { grade: 0.7, passed: true, status: 'complete' });
    const viaCreate = await resyncFinalGrade(w.ctx(), createdBy.username, p.core.key, { apply: true });
    expect(viaCreate.sideEffects?.programLetter).toMatchObject({ outcome: 'created' });
    expect(await lettersOf(createdBy.id, p.programId)).toHaveLength(1);
  });
});

describe('exam authorization for a paid FinalGrade (spec 2.8)', () => {
  it('a paid, passed freeze with a schedulable exam run: exam profile and one authorization for that exam run only', async () => {
    const { courseId, examRunId: pastExamRun, run } = await examCourse();
    const schedulable = await w.addExamRun(courseId, SCHEDULABLE_NOW);
    const l = await w.addLearner(run, { grade: { percent: 0.75, passed: true }, profile: true });

    const result = await freezeOneUser(w.ctx({ operator: 'ops-fay' }), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.examAuthorization).toMatchObject({
      outcome: 'done',
      examProfile: { created: true },
    });
    expect(await examProfileOf(l.id)).toMatchObject({ status: 'pending' });
    const authorizations = await authorizationsOf(l.id, courseId);
    expect(authorizations).toEqual([
      expect.objectContaining({
        exam_run_id: schedulable,
        status: 'success',
        operation: 'add',
        exam_taken: false,
        exam_no_show: false,
        exam_coupon_id: null,
      }),
    ]);
    expect(authorizations[0].exam_run_id).not.toBe(pastExamRun);
    expect(await gradeopsAudits(l.id, 'exam-authorization')).toEqual([
      expect.objectContaining({ operator: 'ops-fay', course_run_id: run.id }),
    ]);
    expect(await gradeopsAudits(l.id, 'exam-profile')).toHaveLength(1);
  });

  it('an unpaid freeze (audit track) authorizes nothing and makes no exam profile', async () => {
    const { courseId, run } = await examCourse({ examRun: SCHEDULABLE_NOW });
    const l = await w.addLearner(run, { enrollment: 'audit', grade: { percent: 0.9, passed: true }, profile: true });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.finalGrade).toMatchObject({ passed: true, paidOnEdx: false });
    expect(result.outcome === 'frozen' && result.sideEffects.examAuthorization).toEqual({ outcome: 'skipped', reason: 'not-paid-on-edx' });
    expect(await authorizationsOf(l.id, courseId)).toHaveLength(0);
    expect(await examProfileOf(l.id)).toBeUndefined();
  });

  it('no currently schedulable exam run (past and future ones only): nothing', async () => {
    const { courseId, run } = await examCourse();
    await w.addExamRun(courseId, { firstSchedulable: daysFromNow(10), lastSchedulable: daysFromNow(40), gradesAvailable: daysFromNow(60) });
    const l = await w.addLearner(run, { grade: { percent: 0.9, passed: true }, profile: true });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.examAuthorization).toEqual({
      outcome: 'skipped',
      reason: 'no-schedulable-exam-run',
    });
    expect(await authorizationsOf(l.id, courseId)).toHaveLength(0);
    expect(await examProfileOf(l.id)).toBeUndefined();
  });

  it('paid but not passed: the exam profile is ensured, no authorization', async () => {
    const { courseId, run } = await examCourse({ examRun: SCHEDULABLE_NOW });
    const l = await w.addLearner(run, { grade: { percent: 0.3, passed: false }, profile: true });

    const result = await freezeOneUser(w.ctx(), l.username, run.key);

    expect(result.outcome === 'frozen' && result.sideEffects.examAuthorization).toMatchObject({
      outcome: 'done',
      created: [],
      notAuthorizedBecause: 'final-grade-not-passed',
    });
    expect(await examProfileOf(l.id)).toMatchObject({ status: 'pending' });
    expect(await authorizationsOf(l.id, courseId)).toHaveLength(0);
  });

  it('an inactive learner or one without a profile is not authorized, with a note saying why', async () => {
    const { courseId, run } = await examCourse({ examRun: SCHEDULABLE_NOW });
    const inactive = await w.addLearner(run, { grade: { percent: 0.9, passed: true }, profile: true, active: false });
    const noProfile = await w.addLearner(run, { grade: { percent: 0.9, passed: true } });

    const a = await freezeOneUser(w.ctx(), inactive.username, run.key);
    const b = await freezeOneUser(w.ctx(), noProfile.username, run.key);

    expect(a.outcome === 'frozen' && a.sideEffects.examAuthorization).toMatchObject({
      outcome: 'skipped',
      reason: 'inactive-user',
      note: expect.stringMatching(/inactive/),
    });
    expect(b.outcome === 'frozen' && b.sideEffects.examAuthorization).toMatchObject({
      outcome: 'skipped',
      reason: 'no-profile',
      note: expect.stringMatching(/profiles_profile/),
    });
    expect(await authorizationsOf(inactive.id, courseId)).toHaveLength(0);
    expect(await authorizationsOf(noProfile.id, courseId)).toHaveLength(0);
    expect(await examProfileOf(inactive.id)).toBeUndefined();
  });

  it('an existing success authorization is not doubled when a resync saves the FinalGrade again', async () => {
    const { courseId, run } = await examCourse({ examRun: SCHEDULABLE_NOW });
    const l = await w.addLearner(run, {
      grade: { percent: 0.9, passed: true },
      profile: true,
      cache: { grade: { percent: 0.7, passed: true } },
    });
    await freezeOneUser(w.ctx(), l.username, run.key);
    await w.db('grades_finalgrade').where({ user_id: l.id, course_run_id: run.id }).update({ grade: 0.7 });

    const result = await resyncFinalGrade(w.ctx(), l.username, run.key, { apply: true });

    expect(result.applied).toBe(true);
    expect(result.sideEffects?.examAuthorization).toMatchObject({ outcome: 'done', created: [], examProfile: { created: false } });
    expect(await authorizationsOf(l.id, courseId)).toHaveLength(1);
  });
});

describe('the freeze job', () => {
  it('runs the side effects for every learner it freezes', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const schedulable = await w.addExamRun(courseId, SCHEDULABLE_NOW);
    const learners: TestLearner[] = [];
    for (const percent of [0.8, 0.57, 0.65]) learners.push(await w.addLearner(run, { grade: { percent, passed: true }, profile: true }));
    await w.addExamGrade(learners[0].id, courseId, examRunId, { score: 80 });
    await w.addExamGrade(learners[1].id, courseId, examRunId, { score: 62.5 });

    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 3 });

    expect(summary).toMatchObject({ outcome: 'completed', frozenThisRun: 3 });
    expect(await combinedOf(learners[0].id, courseId)).toMatchObject({ grade: 80 });
    expect(await combinedOf(learners[1].id, courseId)).toMatchObject({ grade: 60.3 });
    expect(await combinedOf(learners[2].id, courseId)).toBeUndefined();
    for (const l of learners)
      expect(await authorizationsOf(l.id, courseId)).toEqual([expect.objectContaining({ exam_run_id: schedulable, status: 'success' })]);
  });
});

describe('a side effect that fails', () => {
  it('does not fail the freeze: the FinalGrade stays, the error is reported, the failed effect writes nothing', async () => {
    const { courseId, examRunId, run } = await examCourse({ examRun: { ...SCHEDULABLE_NOW, gradesAvailable: daysFromNow(-1) } });
    const l = await w.addLearner(run, { grade: { percent: 0.8, passed: true }, profile: true });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 80 });
    await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit RENAME TO grades_combinedfinalgradeaudit_away');
    try {
      const result = await freezeOneUser(w.ctx(), l.username, run.key);

      expect(result.outcome).toBe('frozen');
      if (result.outcome !== 'frozen') return;
      expect(result.sideEffects.errors).toEqual([
        { effect: 'combined-final-grade', message: expect.stringContaining('grades_combinedfinalgradeaudit') },
      ]);
      expect(result.sideEffects.combinedFinalGrade).toMatchObject({ outcome: 'failed' });
      expect(await w.db('grades_finalgrade').where({ user_id: l.id, course_run_id: run.id }).first()).toMatchObject({
        status: 'complete',
        grade: 0.8,
      });
      // The upsert was rolled back with its audit rows; the other effects still ran.
      expect(await combinedOf(l.id, courseId)).toBeUndefined();
      expect(await gradeopsAudits(l.id, 'combined-final-grade')).toHaveLength(0);
      expect(await authorizationsOf(l.id, courseId)).toHaveLength(1);
    } finally {
      await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit_away RENAME TO grades_combinedfinalgradeaudit');
    }
  });

  it('in a freeze job, the learner counts as frozen and the failure is a warning', async () => {
    const { courseId, examRunId, run } = await examCourse();
    const l = await w.addLearner(run, { grade: { percent: 0.8, passed: true } });
    await w.addExamGrade(l.id, courseId, examRunId, { score: 80 });
    const events = new FreezeEmitter();
    const warnings: string[] = [];
    events.on('freeze:warning', (e) => warnings.push(e.message));
    await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit RENAME TO grades_combinedfinalgradeaudit_away');
    try {
      const summary = await runFreezeJob(w.ctx(), run.key, { events });
      expect(summary).toMatchObject({ outcome: 'completed', frozenThisRun: 1, failed: [] });
      expect(warnings).toEqual([expect.stringContaining(`${l.username} is frozen, but the combined-final-grade side effect failed`)]);
    } finally {
      await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit_away RENAME TO grades_combinedfinalgradeaudit');
    }
  });
});
