import { beforeAll, describe, expect, it } from 'vitest';
import { populateCombinedFinalGrades } from '../../../src/domain/combined-grades/populate-combined-final-grades.js';
import { releaseExamRun } from '../../../src/domain/exams/exam-run-release.js';
import { OpsError } from '../../../src/domain/errors.js';
import { createExamWorld, daysFrom, NOW, type ExamWorld } from './exam-world.js';

// `gradeops combined-grades populate` (spec 2.11) and `gradeops exams release` (spec 2.12, 2.8),
// with the spec's worked values (2.11, T21) stored through the real commands.

let w: ExamWorld;
let program: number;

const combinedOf = async (userId: number, courseId: number) =>
  (await w.db('grades_combinedfinalgrade').where({ user_id: userId, course_id: courseId }).first())?.grade as number | undefined;

beforeAll(async () => {
  w = await createExamWorld();
  program = await w.addProgram({ financialAid: false }); // populate does not look at financial aid
});

async function examCourse(options: { gradesAvailable?: Date } = {}) {
  const course = await w.addCourse(program);
  const run = await w.addRun(course);
  const examRun = await w.addExamRun(course, { gradesAvailable: options.gradesAvailable ?? daysFrom(NOW, -7) });
  return { course, run, examRun };
}

describe('combined-grades populate', () => {
  it('stores the spec 2.11 worked values: (0.8, 80) → 80, (0.57, 62.5) → 60.3, (0.65, 70.25) → 68.2, (0.705, 61.0) → 64.8', async () => {
    const { course, run, examRun } = await examCourse();
    const cases: Array<[number, number, number]> = [
      [0.8, 80, 80],
      [0.57, 62.5, 60.3],
      [0.65, 70.25, 68.2],
      [0.705, 61.0, 64.8],
    ];
    const ids: number[] = [];
    for (const [final, score] of cases) {
      const learner = await w.addLearner();
      ids.push(learner.id);
      await w.addFinalGrade(learner.id, run, final, true);
      await w.addExamGrade(learner.id, course, examRun, score);
    }
    const result = await populateCombinedFinalGrades(w.ctx(), { courseId: course });
    expect(result).toMatchObject({ created: 4, updated: 0, unchanged: 0, skipped: 0 });
    for (const [k, [, , expected]] of cases.entries()) expect(await combinedOf(ids[k], course)).toBe(expected);

    // Audited as the reference does (acting user NULL, data_before NULL on create) and by gradeops with the operator.
    const reference = await w
      .db('grades_combinedfinalgradeaudit as a')
      .join('grades_combinedfinalgrade as c', 'c.id', 'a.combined_final_grade_id')
      .where('c.course_id', course);
    expect(reference).toHaveLength(4);
    for (const a of reference) expect(a).toMatchObject({ acting_user_id: null, data_before: null });
    const ours = await w.db('gradeops_audit_log').where({ action: 'combined-final-grade' }).whereIn('user_id', ids);
    expect(ours.map((a) => a.operator)).toEqual(['exam-tester', 'exam-tester', 'exam-tester', 'exam-tester']);

    // Idempotent: nothing written the second time.
    const again = await populateCombinedFinalGrades(w.ctx(), { courseId: course });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 4 });
    expect(
      await w
        .db('grades_combinedfinalgradeaudit as a')
        .join('grades_combinedfinalgrade as c', 'c.id', 'a.combined_final_grade_id')
        .where('c.course_id', course),
    ).toHaveLength(4);
  });

  it('T21: no combined grade without a passed final grade or a released passing exam; 60 × 0.4 + 80 × 0.6 = 72; a better final grade makes it 80', async () => {
    const { course, run, examRun } = await examCourse();
    const notPassed = await w.addLearner();
    await w.addFinalGrade(notPassed.id, run, 0.5, false);
    await w.addExamGrade(notPassed.id, course, examRun, 80);
    const noExam = await w.addLearner();
    await w.addFinalGrade(noExam.id, run, 0.6, true);
    await w.addExamGrade(noExam.id, course, examRun, 40); // failed exam
    const learner = await w.addLearner();
    await w.addFinalGrade(learner.id, run, 0.6, true);
    await w.addExamGrade(learner.id, course, examRun, 80);

    const first = await populateCombinedFinalGrades(w.ctx(), { courseId: course });
    expect(first).toMatchObject({ created: 1, skipped: 1 }); // notPassed has a passing exam but no passed final grade
    expect(await combinedOf(notPassed.id, course)).toBeUndefined();
    expect(await combinedOf(noExam.id, course)).toBeUndefined();
    expect(await combinedOf(learner.id, course)).toBe(72);

    const laterRun = await w.addRun(course);
    await w.addFinalGrade(learner.id, laterRun, 0.8, true);
    const second = await populateCombinedFinalGrades(w.ctx(), { courseId: course });
    expect(second).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    expect(await combinedOf(learner.id, course)).toBe(80);
    const audit = await w
      .db('gradeops_audit_log')
      .where({ action: 'combined-final-grade', user_id: learner.id })
      .orderBy('id', 'desc')
      .first();
    expect(audit.data_before).toMatchObject({ grade: 72 }); // spec 5b: the real previous row
    expect(audit.data_after).toMatchObject({ grade: 80 });
  });

  it('counts only released exam grades (T20) and only courses of live programs with a frozen run', async () => {
    const unreleased = await examCourse({ gradesAvailable: daysFrom(NOW, 3) });
    const learner = await w.addLearner();
    await w.addFinalGrade(learner.id, unreleased.run, 0.9, true);
    await w.addExamGrade(learner.id, unreleased.course, unreleased.examRun, 90);
    expect(await populateCombinedFinalGrades(w.ctx(), { courseId: unreleased.course })).toMatchObject({ created: 0, skipped: 0 });

    const unfrozen = await w.addCourse(program);
    await w.addRun(unfrozen, { frozen: false });
    await w.addExamRun(unfrozen);
    const error = await populateCombinedFinalGrades(w.ctx(), { courseId: unfrozen }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpsError);
    expect((error as OpsError).message).toContain('has no frozen course run');
    const noExam = await w.addCourse(program);
    expect(((await populateCombinedFinalGrades(w.ctx(), { courseId: noExam }).catch((e: unknown) => e)) as OpsError).message).toContain(
      'has no exam run',
    );
    expect(((await populateCombinedFinalGrades(w.ctx(), { courseId: 987654 }).catch((e: unknown) => e)) as OpsError).code).toBe(
      'unknown-course',
    );
  });
});

describe('exams release', () => {
  it('sets the release date, recomputes existing combined grades only (spec 2.8, T21), and is a no-op the second time', async () => {
    const { course, run } = await examCourse();
    const session = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, 20) });
    const combined = await w.addLearner();
    await w.addFinalGrade(combined.id, run, 0.7, true);
    await w.addCombinedGrade(combined.id, course, 70);
    await w.addExamGrade(combined.id, course, session, 90);
    const fresh = await w.addLearner(); // no combined grade yet: waits for populate (spec 5 item 3)
    await w.addFinalGrade(fresh.id, run, 0.7, true);
    await w.addExamGrade(fresh.id, course, session, 90);

    const result = await releaseExamRun(w.ctx(), session);
    expect(result).toMatchObject({
      examRunId: session,
      outcome: 'released',
      after: NOW.toISOString(),
      grades: { total: 2, passed: 2 },
      combinedFinalGrades: { created: 0, updated: 1, unchanged: 0 },
    });
    expect(new Date((await w.db('exams_examrun').where({ id: session }).first()).date_grades_available).toISOString()).toBe(
      NOW.toISOString(),
    );
    expect(await combinedOf(combined.id, course)).toBe(82); // 70 × 0.4 + 90 × 0.6
    expect(await combinedOf(fresh.id, course)).toBeUndefined();
    expect(await w.db('gradeops_audit_log').where({ action: 'exam-run-release' }).first()).toMatchObject({
      operator: 'exam-tester',
      data_after: { id: session, date_grades_available: NOW.toISOString() },
    });

    const again = await releaseExamRun(w.ctx(daysFrom(NOW, 1)), session);
    expect(again.outcome).toBe('already-released');
    expect(await w.db('gradeops_audit_log').where({ action: 'exam-run-release' })).toHaveLength(1);
    expect(await populateCombinedFinalGrades(w.ctx(), { courseId: course })).toMatchObject({ created: 1, updated: 0, unchanged: 1 });
  });

  it('takes --at, keeps the same instant unchanged, and refuses to hide released grades again', async () => {
    const { course } = await examCourse();
    const session = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, 20) });
    const at = daysFrom(NOW, -1);
    expect(await releaseExamRun(w.ctx(), session, { at })).toMatchObject({ outcome: 'released', after: at.toISOString() });
    expect((await releaseExamRun(w.ctx(), session, { at })).outcome).toBe('unchanged');
    const refused = (await releaseExamRun(w.ctx(), session, { at: daysFrom(NOW, 5) }).catch((e: unknown) => e)) as OpsError;
    expect(refused.code).toBe('conflict');
    const scheduled = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, 20) });
    expect(await releaseExamRun(w.ctx(), scheduled, { at: daysFrom(NOW, 2) })).toMatchObject({ outcome: 'scheduled' });
    expect(((await releaseExamRun(w.ctx(), 987654).catch((e: unknown) => e)) as OpsError).code).toBe('unknown-exam-run');
  });
});
