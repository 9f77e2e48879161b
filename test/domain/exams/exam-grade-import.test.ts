import { beforeAll, describe, expect, it } from 'vitest';
import { ExamFileError } from '../../../src/domain/exams/exam-file-error.js';
import { importExamGrades } from '../../../src/domain/exams/exam-grade-import.js';
import { createExamWorld, daysFrom, NOW, type ExamWorld } from './exam-world.js';

// `gradeops exams import` (spec 2.12 with the corrections of issue 9): both files, every bad row
// reported by line, nothing written when one is bad, every change audited, a second run a no-op.

let w: ExamWorld;
let courseA: number;
let currentA: number;
let oldA: number;
let courseB: number;
let courseC: number;
const users: Record<string, { id: number; username: string; uid: string }> = {};
let aliceGrade: number;

async function refusal(promise: Promise<unknown>): Promise<ExamFileError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ExamFileError)) throw new Error(`expected an ExamFileError, got ${String(error)}`);
  return error;
}

const countOf = async (table: string) => Number((await w.db(table).count({ n: '*' }))[0].n);

beforeAll(async () => {
  w = await createExamWorld();
  const program = await w.addProgram();
  courseA = await w.addCourse(program, { number: 'A101x' });
  courseB = await w.addCourse(program, { number: 'B202x' });
  courseC = await w.addCourse(program, { number: 'C303x' });
  oldA = await w.addExamRun(courseA, {
    firstSchedulable: daysFrom(NOW, -300),
    lastSchedulable: daysFrom(NOW, -280),
    gradesAvailable: daysFrom(NOW, -250),
  });
  currentA = await w.addExamRun(courseA);
  // spec E20: an exam run that kept the model default 0.5 while scores are 0–100.
  const currentB = await w.addExamRun(courseB, { passingScore: 0.5 });
  // Only a future exam run: no exam run whose scheduling has started (spec 2.12 step 3).
  await w.addExamRun(courseC, {
    firstSchedulable: daysFrom(NOW, 30),
    lastSchedulable: daysFrom(NOW, 50),
    gradesAvailable: daysFrom(NOW, 80),
  });
  for (const name of ['judy', 'alice', 'carl', 'gus', 'dora', 'eve', 'hal']) users[name] = await w.addLearner({ username: name });
  users.frank = await w.addLearner({ username: 'frank', uid: null });
  for (const name of ['judy', 'alice', 'carl', 'gus', 'eve']) await w.authorize(users[name].id, courseA, currentA);
  await w.authorize(users.alice.id, courseA, oldA);
  await w.authorize(users.hal.id, courseB, currentB);
  aliceGrade = await w.addExamGrade(users.alice.id, courseA, currentA, 77);
  await w.addExamGrade(users.alice.id, courseA, oldA, 50);
  // spec E22: two grade rows for one (user, course, exam run).
  await w.addExamGrade(users.eve.id, courseA, currentA, 70);
  await w.addExamGrade(users.eve.id, courseA, currentA, 71);
});

describe('the exam-grade import file', () => {
  it('refuses a file with one bad row, writes nothing, and names the line', async () => {
    const before = { grades: await countOf('grades_proctoredexamgrade'), audit: await countOf('gradeops_audit_log') };
    const error = await refusal(
      importExamGrades(
        w.ctx(),
        `username,course_id,no_show,score,grade\njudy.mitx,${courseA},0,74.5,pass\nalice.mitx,${courseA},0,81,passed\n`,
        'one-bad.csv',
      ),
    );
    expect(error.problems).toEqual([{ line: 3, reason: 'grade must be pass or fail, not "passed"' }]);
    expect(error.message).toBe('one-bad.csv has 1 bad row; nothing was written');
    expect(error.exitCode).toBe(1);
    expect(await countOf('grades_proctoredexamgrade')).toBe(before.grades);
    expect(await countOf('gradeops_audit_log')).toBe(before.audit);
  });

  it('reports every bad row with its line and reason', async () => {
    const csv = [
      'username,course_id,no_show,score,grade,exam_date',
      `frank,${courseA},0,70,pass,`, // 2: a MicroMasters username, not a MITx Online one
      `nobody.mitx,${courseA},0,70,pass,`, // 3
      `judy.mitx,999,0,70,pass,`, // 4
      `judy.mitx,${courseC},0,70,pass,`, // 5
      `judy.mitx,${courseA},0,abc,pass,`, // 6
      `gus.mitx,${courseA},0,101,pass,`, // 7
      `carl.mitx,${courseA},yes,,,`, // 8
      `dora.mitx,${courseA},0,70,pass,`, // 9: no authorization
      `eve.mitx,${courseA},0,72,pass,`, // 10: two grades already (E22)
      `hal.mitx,${courseB},0,72,pass,`, // 11: passing score 0.5 (E20)
      `alice.mitx,${courseA},0,80,pass,2026-02-30`, // 12
      `alice.mitx,${courseA},0,81,pass,`, // 13: duplicate of 12's learner and exam run
      `judy.mitx,${courseB},0,,pass,`, // 14
      `x,y`, // 15
    ].join('\n');
    const error = await refusal(importExamGrades(w.ctx(), csv, 'bad.csv'));
    expect(error.problems).toEqual([
      { line: 2, reason: expect.stringContaining('unknown learner: "frank" is a MicroMasters username') },
      { line: 3, reason: 'unknown learner: no MITx Online account has the username "nobody.mitx"' },
      { line: 4, reason: 'unknown course: no course has the id 999' },
      { line: 5, reason: `course C303x (id ${courseC}) has no exam run whose scheduling has started` },
      { line: 6, reason: 'score must be a number, not "abc"' },
      { line: 7, reason: 'score 101 is above 100' },
      { line: 8, reason: 'no_show must be 0 or 1, not "yes"' },
      { line: 9, reason: `dora has no exam authorization for exam run ${currentA} (A101x)` },
      { line: 10, reason: expect.stringContaining('eve already has 2 proctored exam grades') },
      { line: 11, reason: expect.stringContaining('passing_score 0.5, a 0–1 fraction') },
      { line: 12, reason: 'exam_date "2026-02-30" is not an ISO-8601 date or date-time' },
      { line: 13, reason: expect.stringContaining('duplicate: line 12 already has') },
      { line: 14, reason: 'score is empty' },
      { line: 15, reason: '2 fields where the header has 6' },
    ]);
    expect(error.toJSON().rows).toHaveLength(14);
  });

  it('creates and updates grades as the spec says, marks authorizations, audits each change with the operator', async () => {
    const csv = [
      'username,course_id,no_show,score,grade,client_authorization_id',
      `judy.mitx,${courseA},0,74.5,pass,mm-judy`,
      `alice.mitx,${courseA},0,81,pass,mm-alice`,
      `carl.mitx,${courseA},1,,,mm-carl`,
      // spec 2.12 step 6: passed comes from the grade word, not from comparing the score.
      `gus.mitx,${courseA},0,45,Pass,mm-gus`,
    ].join('\n');
    const result = await importExamGrades(w.ctx(), csv, 'session.csv');
    expect(result).toMatchObject({
      format: 'exam-grades',
      rows: 4,
      created: 2,
      modified: 1,
      unchanged: 0,
      noShows: { marked: 1, unchanged: 0 },
      examRuns: [{ id: currentA, courseId: courseA, released: false }],
    });

    const judy = await w.db('grades_proctoredexamgrade').where({ user_id: users.judy.id }).first();
    expect(judy).toMatchObject({
      course_id: courseA,
      exam_run_id: currentA,
      passing_score: 60,
      score: 74.5,
      percentage_grade: 0.745,
      grade: 'pass',
      passed: true,
      client_authorization_id: null,
      row_data: {
        username: 'judy.mitx',
        course_id: String(courseA),
        no_show: '0',
        score: '74.5',
        grade: 'pass',
        client_authorization_id: 'mm-judy',
      },
    });
    expect(new Date(judy.exam_date).toISOString()).toBe(NOW.toISOString());
    const gus = await w.db('grades_proctoredexamgrade').where({ user_id: users.gus.id }).first();
    expect(gus).toMatchObject({ score: 45, grade: 'Pass', passed: true });
    const alice = await w.db('grades_proctoredexamgrade').where({ id: aliceGrade }).first();
    expect(alice).toMatchObject({ score: 81, percentage_grade: 0.81, passed: true });
    // The old exam run's grade is another exam's result and stays.
    expect(await w.db('grades_proctoredexamgrade').where({ user_id: users.alice.id, exam_run_id: oldA }).first()).toMatchObject({
      score: 50,
    });

    const auth = async (name: string) => w.db('exams_examauthorization').where({ user_id: users[name].id, exam_run_id: currentA }).first();
    expect(await auth('judy')).toMatchObject({ exam_taken: true, exam_no_show: false });
    expect(await auth('carl')).toMatchObject({ exam_taken: true, exam_no_show: true });
    expect(await auth('alice')).toMatchObject({ exam_taken: false }); // an update does not mark it (spec 2.12)

    const audit = await w.db('gradeops_audit_log').whereIn('action', ['proctored-exam-grade', 'exam-authorization']).orderBy('id');
    expect(audit.map((a) => [a.action, a.username])).toEqual(
      expect.arrayContaining([
        ['proctored-exam-grade', 'judy'],
        ['proctored-exam-grade', 'alice'],
        ['proctored-exam-grade', 'gus'],
        ['exam-authorization', 'judy'],
        ['exam-authorization', 'gus'],
        ['exam-authorization', 'carl'],
      ]),
    );
    expect(audit).toHaveLength(6);
    expect(new Set(audit.map((a) => a.operator))).toEqual(new Set(['exam-tester']));
    const aliceAudit = audit.find((a) => a.username === 'alice')!;
    expect(aliceAudit.data_before).toMatchObject({ id: aliceGrade, score: 77 });
    expect(aliceAudit.data_after).toMatchObject({ id: aliceGrade, score: 81, exam_run: currentA });
    expect(aliceAudit.detail).toMatchObject({ source: 'import', file: 'session.csv', line: 3 });

    // Importing the same file again changes nothing: no write, no audit row.
    const auditRows = await countOf('gradeops_audit_log');
    const again = await importExamGrades(w.ctx(daysFrom(NOW, 1)), csv, 'session.csv');
    expect(again).toMatchObject({ created: 0, modified: 0, unchanged: 3, noShows: { marked: 0, unchanged: 1 } });
    expect(await countOf('gradeops_audit_log')).toBe(auditRows);
    expect(new Date((await w.db('grades_proctoredexamgrade').where({ user_id: users.judy.id }).first()).exam_date).toISOString()).toBe(
      NOW.toISOString(),
    );
  });
});

describe('the adjustment file', () => {
  it("sets the score, percentage and pass against the grade's own passing score, with both audit rows; a second run changes nothing", async () => {
    const judyGrade = (await w.db('grades_proctoredexamgrade').where({ user_id: users.judy.id }).first()).id as number;
    const gusGrade = (await w.db('grades_proctoredexamgrade').where({ user_id: users.gus.id }).first()).id as number;
    const csv = `proctoredexam_id,score\n${judyGrade},55\n${aliceGrade},81\n${gusGrade},62.5\n`;
    const result = await importExamGrades(w.ctx(), csv, 'curve.csv');
    expect(result).toMatchObject({ format: 'adjustment', rows: 3, created: 0, modified: 2, unchanged: 1 });
    expect(await w.db('grades_proctoredexamgrade').where({ id: judyGrade }).first()).toMatchObject({
      score: 55,
      percentage_grade: 0.55,
      passed: false,
      grade: 'fail',
    });
    expect(await w.db('grades_proctoredexamgrade').where({ id: gusGrade }).first()).toMatchObject({
      score: 62.5,
      passed: true,
      grade: 'pass',
    });
    const reference = await w.db('grades_proctoredexamgradeaudit').where({ proctored_exam_grade_id: judyGrade });
    expect(reference).toHaveLength(1);
    expect(reference[0]).toMatchObject({
      acting_user_id: null,
      data_before: { score: 74.5, passed: true },
      data_after: { score: 55, passed: false },
    });
    expect(
      await w.db('gradeops_audit_log').where({ action: 'proctored-exam-grade', username: 'judy' }).orderBy('id', 'desc').first(),
    ).toMatchObject({
      operator: 'exam-tester',
      detail: { source: 'adjustment', file: 'curve.csv', line: 2 },
    });

    const again = await importExamGrades(w.ctx(), csv, 'curve.csv');
    expect(again).toMatchObject({ modified: 0, unchanged: 3 });
    expect(await w.db('grades_proctoredexamgradeaudit').where({ proctored_exam_grade_id: judyGrade })).toHaveLength(1);
  });

  it('refuses unknown ids, duplicates, out-of-range scores and a grade on a 0–1 passing scale, writing nothing', async () => {
    const fraction = await w.addExamGrade(users.hal.id, courseB, null, 70, { passingScore: 0.5 });
    const csv = `proctoredexam_id,score\n${aliceGrade},90\n424242,70\n${aliceGrade},91\n${fraction},75\nabc,70\n424243,-1\n`;
    const error = await refusal(importExamGrades(w.ctx(), csv, 'curve.csv'));
    expect(error.problems).toEqual([
      { line: 3, reason: 'unknown exam grade: no proctored exam grade has the id 424242' },
      { line: 4, reason: `duplicate: line 2 already adjusts proctored exam grade ${aliceGrade}` },
      { line: 5, reason: expect.stringMatching(/passing_score 0\.5, a 0–1 fraction, while exam scores are 0–100/) },
      { line: 6, reason: 'proctoredexam_id must be a proctored exam grade id (a whole number), not "abc"' },
      { line: 7, reason: 'score -1 is below 0' },
    ]);
    expect(await w.db('grades_proctoredexamgrade').where({ id: aliceGrade }).first()).toMatchObject({ score: 81 });
  });

  it('warns when an import would replace scores adjusted since (spec E21)', async () => {
    const result = await importExamGrades(
      w.ctx(),
      `username,course_id,no_show,score,grade\njudy.mitx,${courseA},0,74.5,pass\n`,
      'session-again.csv',
    );
    expect(result.modified).toBe(1);
    expect(result.warnings).toEqual([expect.stringContaining('adjusted since they were imported')]);
  });
});
