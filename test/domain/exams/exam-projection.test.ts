import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DomainContext } from '../../../src/domain/context.js';
import { rawRows } from '../../../src/domain/db.js';
import { populateCombinedFinalGrades } from '../../../src/domain/combined-grades/populate-combined-final-grades.js';
import { generateCertificates } from '../../../src/domain/exams/certificates.js';
import { ExamFileError } from '../../../src/domain/exams/exam-file-error.js';
import { importExamGrades } from '../../../src/domain/exams/exam-grade-import.js';
import { projectExamGradeFile, type ExamProjection } from '../../../src/domain/exams/exam-projection.js';
import { releaseExamRun } from '../../../src/domain/exams/exam-run-release.js';
import { SEEDED_TABLES } from '../../../src/seed/demo-world.js';
import { certificatesInDatabase } from '../../helpers/certificate-counts.js';
import { seededDb } from '../../seed/seeded-db.js';

// The projection's "after" must be what the database shows once the real import, release,
// populate and generate have run (issue 9), on the demo world; and the projection writes nothing.

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'fixtures', 'exams');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const DEDP = 1;

let db: Knex;
let ctx: DomainContext;

beforeAll(async () => {
  ({ db } = await seededDb({ learners: 150 }));
  ctx = { db, redis: null as never, edx: null as never, operator: 'projection-tester' };
});

const countsInDatabase = (programId: number) => certificatesInDatabase(db, programId);

async function tableCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [...SEEDED_TABLES, 'gradeops_audit_log', 'grades_proctoredexamgradeaudit', 'grades_combinedfinalgradeaudit'])
    out[t] = Number((await db(t).count({ n: '*' }))[0].n);
  out.released = Number((await db('exams_examrun').where('date_grades_available', '<=', new Date()).count({ n: '*' }))[0].n);
  return out;
}

/** The runbook for real: import, release what the file wrote, populate, generate. */
async function runForReal(text: string, name: string, projection: ExamProjection) {
  const imported = await importExamGrades(ctx, text, name);
  for (const run of imported.examRuns.filter((e) => !e.released)) await releaseExamRun(ctx, run.id);
  await populateCombinedFinalGrades(ctx);
  await generateCertificates(ctx);
  expect(imported.examRuns.map((e) => e.id)).toEqual(projection.steps.import.examRuns.map((e) => e.id));
  return imported;
}

function expectChangedToMatch(projection: ExamProjection, before: Set<string>, after: Set<string>) {
  const gained = [...after].filter((p) => !before.has(p)).sort();
  const lost = [...before].filter((p) => !after.has(p)).sort();
  expect(
    projection.changed
      .filter((c) => c.after && !c.before)
      .map((c) => `${c.username} ${c.course}`)
      .sort(),
  ).toEqual(gained);
  expect(
    projection.changed
      .filter((c) => c.before && !c.after)
      .map((c) => `${c.username} ${c.course}`)
      .sort(),
  ).toEqual(lost);
}

describe('exams project on the demo world', () => {
  it('refuses a file with a bad row exactly as the import does, and writes nothing', async () => {
    const before = await tableCounts();
    const error = await projectExamGradeFile(ctx, fixture('demo-exam-grades-one-bad-row.csv'), 'bad.csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExamFileError);
    expect((error as ExamFileError).problems).toEqual([{ line: 3, reason: 'grade must be pass or fail, not "Passed"' }]);
    expect(await tableCounts()).toEqual(before);
  });

  it('the exam-grade import file: "after" equals the database after import, release, populate and generate', async () => {
    const text = fixture('demo-exam-grades.csv');
    const start = await tableCounts();
    const before = await countsInDatabase(DEDP);
    const projection = await projectExamGradeFile(ctx, text, 'demo-exam-grades.csv');
    expect(await tableCounts()).toEqual(start); // nothing written, nothing released
    expect(projection.program).toMatchObject({ id: DEDP, courses: 6 });
    expect(projection.before).toEqual(before.counts);
    expect(projection.steps.import).toMatchObject({ created: 1, modified: 1, unchanged: 0, noShows: { marked: 1, unchanged: 0 } });
    expect(projection.changed).toEqual(expect.arrayContaining([{ username: 'mara', course: '14.73x', before: false, after: true }]));

    await runForReal(text, 'demo-exam-grades.csv', projection);
    const after = await countsInDatabase(DEDP);
    expect(projection.after).toEqual(after.counts);
    expectChangedToMatch(projection, before.pairs, after.pairs);
  });

  it('an adjustment (curve) of every grade in the unreleased exam runs: "after" equals the real outcome', async () => {
    // Everything in the first test is applied now; curve the exam runs that are still embargoed.
    const grades = rawRows<{ id: number; score: number }>(
      await db.raw(
        `SELECT g.id, g.score FROM grades_proctoredexamgrade g JOIN exams_examrun e ON e.id = g.exam_run_id JOIN courses_course c ON c.id = g.course_id
          WHERE c.program_id = ? AND e.date_grades_available > now() AND g.passing_score > 1 ORDER BY g.id`,
        [DEDP],
      ),
    );
    const released = rawRows<{ id: number; score: number }>(
      await db.raw(
        `SELECT g.id, g.score FROM grades_proctoredexamgrade g JOIN exams_examrun e ON e.id = g.exam_run_id
          WHERE e.date_grades_available <= now() AND g.passing_score > 1 AND g.score BETWEEN 50 AND 59 ORDER BY g.id LIMIT 5`,
      ),
    );
    const curve = [...grades, ...released];
    expect(curve.length).toBeGreaterThan(5);
    const text = `proctoredexam_id,score\n${curve.map((g) => `${g.id},${Math.min(100, g.score + 7)}`).join('\n')}\n`;
    const before = await countsInDatabase(DEDP);
    const projection = await projectExamGradeFile(ctx, text, 'curve.csv');
    expect(projection.before).toEqual(before.counts);
    expect(projection.steps.import.modified).toBe(curve.filter((g) => g.score < 100).length);

    await runForReal(text, 'curve.csv', projection);
    const after = await countsInDatabase(DEDP);
    expect(projection.after).toEqual(after.counts);
    expectChangedToMatch(projection, before.pairs, after.pairs);

    // Projecting the same file now: nothing left to change.
    const again = await projectExamGradeFile(ctx, text, 'curve.csv');
    expect(again.before).toEqual(after.counts);
    expect(again.after).toEqual(after.counts);
    expect(again.changed).toEqual([]);
  });

  it('refuses a file whose rows concern two programs', async () => {
    // The demo's second program has no exams; give one of its courses a grade so a file can span both.
    const course = await db('courses_course').whereNot({ program_id: DEDP }).orderBy('id').first('id');
    const examRun = await db('exams_examrun').orderBy('id').first('id');
    const [{ id }] = await db('grades_proctoredexamgrade')
      .insert({
        created_on: new Date(),
        updated_on: new Date(),
        user_id: 1,
        course_id: course.id,
        exam_run_id: examRun.id,
        exam_date: new Date(),
        passing_score: 60,
        score: 70,
        grade: 'pass',
        row_data: '{}',
        passed: true,
        percentage_grade: 0.7,
      })
      .returning('id');
    const error = (await projectExamGradeFile(ctx, `proctoredexam_id,score\n1,84\n${id},71\n`, 'two.csv').catch(
      (e: unknown) => e,
    )) as ExamFileError;
    expect(error).toBeInstanceOf(ExamFileError);
    expect(error.message).toContain('2 programs');
  });
});
