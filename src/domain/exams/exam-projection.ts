import type { DomainContext } from '../context.js';
import { inRolledBackTransaction, rawRows, type Db } from '../db.js';
import { generateCertificates, type CertificatesResult } from './certificates.js';
import { ExamFileError } from './exam-file-error.js';
import { applyExamGradePlan, planExamGradeText, type ExamGradeImportResult } from './exam-grade-import.js';
import { releaseExamRun, type ReleaseResult } from './exam-run-release.js';

// `gradeops exams project <csv>`: what the file would do to the program's certificates, before
// anything is written. It runs the real commands — import, release of the file's exam runs,
// certificates generate — in one transaction that always rolls back, and counts before and after
// inside it. So "after" is, by construction, what the database shows after the same commands run
// for real at the same moment (one code path, issue 9). `combined-grades populate`, which the
// runbook runs between release and generate, is left out: no certificate rule reads a combined
// grade (spec 2.13 has_passed_course, 2.14 completed_program and the course-certificate rule read
// FinalGrades, exam grades and certificates), so the counts are the same with or without it, and on
// 20,000 rows it would be a third of the projection's time.

/** Learners by the number of course certificates they hold in the program ("1" … "N"), and program certificates. */
export interface CertificateCounts {
  courseCertificates: Record<string, number>;
  programCertificates: number;
}

export interface ChangedOutcome {
  username: string;
  course: string;
  /** Whether the learner holds a course certificate for the course before and after. */
  before: boolean;
  after: boolean;
}

export interface ExamProjection {
  program: { id: number; title: string; courses: number };
  before: CertificateCounts;
  after: CertificateCounts;
  changed: ChangedOutcome[];
  /** What each command did inside the rolled-back transaction. */
  steps: {
    import: ExamGradeImportResult;
    releases: ReleaseResult[];
    certificates: CertificatesResult;
  };
}

interface ProgramCertificateState {
  counts: CertificateCounts;
  /** "userId:courseId" of every course certificate held in the program. */
  pairs: Set<string>;
}

/** The counts of one program as the database shows them now (used by the tests and the TUI too). */
export async function certificateCounts(db: Db, programId: number): Promise<CertificateCounts> {
  return (await certificateState(db, programId)).counts;
}

async function certificateState(db: Db, programId: number): Promise<ProgramCertificateState> {
  const [{ courses, program_certificates }] = rawRows<{ courses: number; program_certificates: number }>(
    await db.raw(
      `SELECT (SELECT count(*)::integer FROM courses_course WHERE program_id = ?) AS courses,
        (SELECT count(*)::integer FROM grades_micromastersprogramcertificate WHERE program_id = ?) AS program_certificates`,
      [programId, programId],
    ),
  );
  // spec 1.10: course certificates have no unique (user, course): a learner holds a course once.
  const pairs = rawRows<{ user_id: number; course_id: number }>(
    await db.raw(
      `SELECT DISTINCT cc.user_id, cc.course_id FROM grades_micromasterscoursecertificate cc JOIN courses_course c ON c.id = cc.course_id
        WHERE c.program_id = ? AND cc.user_id IS NOT NULL`,
      [programId],
    ),
  );
  const perLearner = new Map<number, number>();
  for (const p of pairs) perLearner.set(p.user_id, (perLearner.get(p.user_id) ?? 0) + 1);
  const courseCertificates: Record<string, number> = {};
  for (let n = 1; n <= Number(courses); n++) courseCertificates[String(n)] = 0;
  for (const n of perLearner.values()) courseCertificates[String(n)] = (courseCertificates[String(n)] ?? 0) + 1;
  return {
    counts: { courseCertificates, programCertificates: Number(program_certificates) },
    pairs: new Set(pairs.map((p) => `${p.user_id}:${p.course_id}`)),
  };
}

export async function projectExamGradeFile(ctx: DomainContext, text: string, fileName: string): Promise<ExamProjection> {
  return inRolledBackTransaction(ctx.db, async (trx) => {
    const c = { ...ctx, db: trx };
    const plan = await planExamGradeText(c, text, fileName);
    if (plan.programIds.length !== 1) {
      const programs = rawRows<{ id: number; title: string }>(
        await trx.raw(
          `SELECT id, title FROM courses_program WHERE id IN (SELECT value::integer FROM json_array_elements_text(?::json)) ORDER BY id`,
          [JSON.stringify(plan.programIds)],
        ),
      );
      throw new ExamFileError(
        fileName,
        [
          {
            line: 1,
            reason: `its rows concern ${programs.length} programs (${programs.map((p) => `${p.title} (id ${p.id})`).join(', ')}); a projection counts the certificates of one program — split the file by program`,
          },
        ],
        { fileLevel: true },
      );
    }
    const programId = plan.programIds[0];
    const program = await trx<{ id: number; title: string }>('courses_program').where('id', programId).first('id', 'title');
    if (!program) throw new Error(`program ${programId} vanished during the projection`);
    const before = await certificateState(trx, programId);

    const imported = await applyExamGradePlan(c, plan);
    const releases: ReleaseResult[] = [];
    for (const run of plan.examRuns) releases.push(await releaseExamRun(c, run.id));
    const certificates = await generateCertificates(c, { programId });
    const after = await certificateState(trx, programId);

    const labels = await pairLabels(trx, [...symmetricDifference(before.pairs, after.pairs)]);
    const changed = [...symmetricDifference(before.pairs, after.pairs)]
      .map((pair) => ({
        username: labels.get(pair)!.username,
        course: labels.get(pair)!.course,
        before: before.pairs.has(pair),
        after: after.pairs.has(pair),
      }))
      .sort((a, b) => (a.username === b.username ? a.course.localeCompare(b.course) : a.username < b.username ? -1 : 1));
    return {
      program: { id: program.id, title: program.title, courses: Object.keys(after.counts.courseCertificates).length },
      before: before.counts,
      after: after.counts,
      changed,
      steps: { import: imported, releases, certificates },
    };
  });
}

function* symmetricDifference(a: Set<string>, b: Set<string>): Generator<string> {
  for (const x of a) if (!b.has(x)) yield x;
  for (const x of b) if (!a.has(x)) yield x;
}

async function pairLabels(db: Db, pairs: string[]): Promise<Map<string, { username: string; course: string }>> {
  if (pairs.length === 0) return new Map();
  const rows = rawRows<{ user_id: number; course_id: number; username: string; course: string }>(
    await db.raw(
      `SELECT v.user_id, v.course_id, u.username, COALESCE(c.course_number, c.title) AS course
        FROM jsonb_to_recordset(?::jsonb) AS v(user_id integer, course_id integer)
        JOIN auth_user u ON u.id = v.user_id JOIN courses_course c ON c.id = v.course_id`,
      [JSON.stringify(pairs.map((p) => ({ user_id: Number(p.split(':')[0]), course_id: Number(p.split(':')[1]) })))],
    ),
  );
  return new Map(rows.map((r) => [`${r.user_id}:${r.course_id}`, { username: r.username, course: r.course }]));
}
