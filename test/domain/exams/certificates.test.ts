import { beforeAll, describe, expect, it } from 'vitest';
import { generateCertificates } from '../../../src/domain/exams/certificates.js';
import { OpsError } from '../../../src/domain/errors.js';
import { createExamWorld, daysFrom, NOW, type ExamWorld } from './exam-world.js';

// `gradeops certificates generate`: course certificates by the historical rule (spec 2.14), program
// certificates by the core and electives rules (T23), letters with them (spec 2.8, T24).

let w: ExamWorld;

const programCertificates = async (programId: number) => w.db('grades_micromastersprogramcertificate').where({ program_id: programId });
const courseCertificates = async (courseId: number) => w.db('grades_micromasterscoursecertificate').where({ course_id: courseId });
const generate = (programId: number) => generateCertificates(w.ctx(), { programId });

beforeAll(async () => {
  w = await createExamWorld();
});

describe('program certificates (T23)', () => {
  it('one course: a complete passed FinalGrade (0.8) completes the program; a second run creates nothing', async () => {
    const program = await w.addProgram({ financialAid: false });
    const course = await w.addCourse(program);
    const run = await w.addRun(course);
    const learner = await w.addLearner({ enrolIn: [program] });
    await w.addFinalGrade(learner.id, run, 0.8, true);
    await w.addCourseCertificate(learner.id, course);
    const idle = await w.addLearner({ enrolIn: [program] }); // no final grade: nothing

    const result = await generate(program);
    expect(result.programCertificates.created).toBe(1);
    expect(result.courseCertificates.created).toBe(0); // not a financial-aid program (spec 2.14 history)
    const [certificate] = await programCertificates(program);
    expect(certificate).toMatchObject({ user_id: learner.id });
    expect(certificate.hash).toMatch(/^[0-9a-f]{32}$/);
    expect((await programCertificates(program)).map((c) => c.user_id)).not.toContain(idle.id);
    // spec 2.8: the certificate brings the program letter.
    expect(await w.db('grades_micromastersprogramcommendation').where({ user_id: learner.id, program_id: program }).first()).toMatchObject({
      is_active: true,
    });
    expect(await w.db('gradeops_audit_log').where({ action: 'program-certificate', user_id: learner.id }).first()).toMatchObject({
      operator: 'exam-tester',
      data_after: { user: learner.id, program, hash: certificate.hash },
    });

    const again = await generate(program);
    expect(again).toMatchObject({
      courseCertificates: { created: 0 },
      programCertificates: { created: 0 },
      programLetters: { created: 0, reactivated: 0 },
    });
    expect(await programCertificates(program)).toHaveLength(1);
  });

  it('an electives set requiring 1 of 2 courses, both passed (0.7): one certificate; a core course not passed: none', async () => {
    const program = await w.addProgram({ financialAid: false });
    const core = await w.addCourse(program);
    const electives = [await w.addCourse(program), await w.addCourse(program)];
    await w.addElectivesSet(program, 1, electives);
    const runs = [await w.addRun(core), await w.addRun(electives[0]), await w.addRun(electives[1])];
    const complete = await w.addLearner({ enrolIn: [program] });
    for (const run of runs) await w.addFinalGrade(complete.id, run, 0.7, true);
    const coreMissing = await w.addLearner({ enrolIn: [program] });
    await w.addFinalGrade(coreMissing.id, runs[0], 0.4, false);
    await w.addFinalGrade(coreMissing.id, runs[1], 0.7, true);
    await w.addFinalGrade(coreMissing.id, runs[2], 0.7, true);

    expect((await generate(program)).programCertificates.created).toBe(1);
    expect((await programCertificates(program)).map((c) => c.user_id)).toEqual([complete.id]);
    // T24: no letter for the learner whose core course is not passed.
    expect(await w.db('grades_micromastersprogramcommendation').where({ user_id: coreMissing.id })).toHaveLength(0);
  });

  it('exam program: a passed 0.8 FinalGrade without course certificate counts only on a run starting after 2022-09-01 (E26)', async () => {
    const program = await w.addProgram({ financialAid: false });
    const course = await w.addCourse(program);
    await w.addExamRun(course);
    const before = await w.addRun(course, { start: new Date('2021-10-01T00:00:00Z') });
    const after = await w.addRun(course, { start: new Date('2022-10-01T00:00:00Z') });
    const legacy = await w.addLearner({ enrolIn: [program] });
    await w.addFinalGrade(legacy.id, before, 0.8, true);
    const modern = await w.addLearner({ enrolIn: [program] });
    await w.addFinalGrade(modern.id, after, 0.8, true);

    expect((await generate(program)).programCertificates.created).toBe(1);
    expect((await programCertificates(program)).map((c) => c.user_id)).toEqual([modern.id]);
  });

  it('reactivates an inactive letter when the certificate is created (T24), and skips a program with an unfrozen course (E27)', async () => {
    const program = await w.addProgram({ financialAid: false });
    const course = await w.addCourse(program);
    const run = await w.addRun(course);
    const learner = await w.addLearner({ enrolIn: [program] });
    await w.addFinalGrade(learner.id, run, 0.9, true);
    await w.db('grades_micromastersprogramcommendation').insert({
      uuid: '7d7c5b2e-1d2a-4c1e-9e0b-2f6f0c1a9b33',
      user_id: learner.id,
      program_id: program,
      is_active: false,
      created_on: NOW,
      updated_on: NOW,
    });
    const result = await generate(program);
    expect(result.programLetters).toEqual({ created: 0, reactivated: 1 });
    expect(await w.db('grades_micromastersprogramcommendation').where({ user_id: learner.id }).first()).toMatchObject({
      uuid: '7d7c5b2e-1d2a-4c1e-9e0b-2f6f0c1a9b33',
      is_active: true,
    });

    const unfrozen = await w.addProgram({ financialAid: false });
    const frozenCourse = await w.addCourse(unfrozen);
    const r1 = await w.addRun(frozenCourse);
    await w.addRun(await w.addCourse(unfrozen), { frozen: false });
    const waiting = await w.addLearner({ enrolIn: [unfrozen] });
    await w.addFinalGrade(waiting.id, r1, 0.9, true);
    const skipped = await generate(unfrozen);
    expect(skipped.programCertificates.created).toBe(0);
    expect(skipped.programsNotFrozen).toEqual([{ programId: unfrozen, program: expect.any(String) }]);
  });

  it('refuses an unknown program id', async () => {
    const error = (await generate(987654).catch((e: unknown) => e)) as OpsError;
    expect(error.code).toBe('unknown-program');
  });
});

describe('course certificates (spec 2.14, historical rule)', () => {
  it('live financial-aid programs, frozen courses, complete passed FinalGrades; exam courses also need a passed released exam', async () => {
    const program = await w.addProgram({ financialAid: true });
    const plain = await w.addCourse(program);
    const plainRun = await w.addRun(plain);
    const exam = await w.addCourse(program);
    const examRun = await w.addRun(exam);
    const released = await w.addExamRun(exam, { gradesAvailable: daysFrom(NOW, -5) });
    const unreleased = await w.addExamRun(exam, { gradesAvailable: daysFrom(NOW, 5) });
    const unfrozen = await w.addCourse(program);
    const unfrozenRun = await w.addRun(unfrozen, { frozen: false });

    const a = await w.addLearner(); // not enrolled in the program: the signal route still checks the program
    await w.addFinalGrade(a.id, plainRun, 0.8, true);
    await w.addFinalGrade(a.id, examRun, 0.8, true);
    await w.addExamGrade(a.id, exam, released, 75);
    await w.addFinalGrade(a.id, unfrozenRun, 0.8, true);
    const b = await w.addLearner();
    await w.addFinalGrade(b.id, plainRun, 0.8, true, 'pending');
    await w.addFinalGrade(b.id, examRun, 0.8, true);
    await w.addExamGrade(b.id, exam, unreleased, 90);
    const c = await w.addLearner();
    await w.addFinalGrade(c.id, examRun, 0.8, true);
    await w.addExamGrade(c.id, exam, released, 50); // failed exam
    const d = await w.addLearner();
    await w.addFinalGrade(d.id, plainRun, 0.7, true);
    await w.addCourseCertificate(d.id, plain); // already has it

    const result = await generate(program);
    expect(result.courseCertificates.created).toBe(2);
    expect((await courseCertificates(plain)).map((x) => x.user_id).sort()).toEqual([a.id, d.id].sort());
    expect((await courseCertificates(exam)).map((x) => x.user_id)).toEqual([a.id]);
    expect(await courseCertificates(unfrozen)).toHaveLength(0);
    // spec 2.8: the new course certificates fire generate_program_certificate for learner a (not
    // enrolled), whose passed FinalGrades on post-2022 runs count for every course (spec 2.13), the
    // unfrozen one included: a completes the program. b, c and d do not.
    expect(result.programCertificates.created).toBe(1);
    expect((await programCertificates(program)).map((x) => x.user_id)).toEqual([a.id]);
    expect(await w.db('gradeops_audit_log').where({ action: 'course-certificate' }).whereIn('user_id', [a.id])).toHaveLength(2);

    expect((await generate(program)).courseCertificates.created).toBe(0);
  });

  it('a new course certificate completes an exam program for a learner with no program enrollment (the signal route)', async () => {
    const program = await w.addProgram({ financialAid: true });
    const course = await w.addCourse(program);
    const run = await w.addRun(course, { start: new Date('2021-10-01T00:00:00Z') });
    const examRun = await w.addExamRun(course, { gradesAvailable: daysFrom(NOW, -5) });
    const learner = await w.addLearner();
    await w.addFinalGrade(learner.id, run, 0.8, true);
    await w.addExamGrade(learner.id, course, examRun, 70);
    const result = await generate(program);
    expect(result).toMatchObject({
      courseCertificates: { created: 1 },
      programCertificates: { created: 1 },
      programLetters: { created: 1 },
    });
  });
});
