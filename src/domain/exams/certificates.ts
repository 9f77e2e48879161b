import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { AUDIT_LOG_COLUMNS, CERTIFICATE_HASH_SQL, djangoTimeSql } from '../audit/django-json-sql.js';
import { rawRows } from '../db.js';
import { OpsError } from '../errors.js';
import { courseHasExamSql, courseHasFrozenRunsSql, programFrozenForAllCoursesSql } from '../programs/frozen-courses.js';
import { generateProgramCertificates } from '../programs/program-certificate.js';
import { loadProgramRequirements } from '../programs/program-requirements.js';
import { releasedPassingExamGrades } from './exam-grade-rules.js';
import { lockWorkflow } from './workflow-lock.js';

// `gradeops certificates generate`: what MicroMasters no longer does on its own (spec 5 item 2, 5b).
//
// Course certificates, by the removed hourly task's rule (spec 2.14, history): for each course of a
// live financial-aid program that has a frozen run, every learner with a complete, passed FinalGrade
// on a run of the course and no certificate for it — for a course with an exam run, also a passed,
// released exam grade — gets one (get-or-create). Each new one fires the certificate's signal
// (spec 2.8): generate_program_certificate(learner, the course's program).
//
// Program certificates, by `generate_program_certificates` (spec 2.14, E27): for each live program
// whose every course has a frozen run, each learner enrolled in it. Both routes go through
// generate_program_certificate (core courses and electives sets; one per learner and program),
// whose new certificates bring the program letter (spec 2.8).

export interface CertificatesResult {
  courseCertificates: { created: number; byCourse: Array<{ courseId: number; course: string; created: number }> };
  programCertificates: { created: number; byProgram: Array<{ programId: number; program: string; created: number }> };
  programLetters: { created: number; reactivated: number };
  /** Live programs left out of the enrollment route because a course has no frozen run (spec E27). */
  programsNotFrozen: Array<{ programId: number; program: string }>;
}

interface NewCourseCertificate {
  user_id: number;
  course_id: number;
  program_id: number;
  username: string;
}

/** Everything in one transaction, so the projection can run it and roll it back. */
export async function generateCertificates(ctx: DomainContext, options: { programId?: number } = {}): Promise<CertificatesResult> {
  return ctx.db.transaction(async (trx) => {
    const c = { ...ctx, db: trx };
    const now = nowOf(ctx);
    // Course certificates have no unique (user, course) constraint (spec 1.10): one generator at a time.
    await lockWorkflow(trx, 'certificates');
    const programs = rawRows<{ id: number; title: string; live: boolean; frozen: boolean }>(
      await trx.raw(
        `SELECT p.id, p.title, p.live, ${programFrozenForAllCoursesSql('p.id')} AS frozen FROM courses_program p
          ${options.programId === undefined ? '' : 'WHERE p.id = ?'} ORDER BY p.id`,
        options.programId === undefined ? [] : [options.programId],
      ),
    );
    if (options.programId !== undefined && programs.length === 0) {
      throw new OpsError(
        'unknown-program',
        `no program has the id ${options.programId}`,
        'leave out --program to generate for every live program',
      );
    }
    const programTitles = new Map(programs.map((p) => [p.id, p.title]));

    const released = releasedPassingExamGrades('g', 'e');
    // The learners due a course certificate, the certificates and their audit rows, in one statement.
    const due = rawRows<NewCourseCertificate & { course: string }>(
      await trx.raw(
        `WITH courses AS (
          SELECT c.id, c.program_id, COALESCE(c.course_number, c.title) AS course, ${courseHasExamSql('c.id')} AS has_exam
          FROM courses_course c JOIN courses_program p ON p.id = c.program_id
          WHERE p.live AND p.financial_aid_availability ${options.programId === undefined ? '' : 'AND p.id = ?'} AND ${courseHasFrozenRunsSql('c.id')}),
        passed_exams AS (
          SELECT DISTINCT g.user_id, g.course_id FROM ${released.from} WHERE g.course_id IN (SELECT id FROM courses) AND ${released.where}),
        due AS (
          SELECT DISTINCT f.user_id, r.course_id, c.program_id, u.username, c.course
          FROM grades_finalgrade f
          JOIN courses_courserun r ON r.id = f.course_run_id
          JOIN courses c ON c.id = r.course_id
          JOIN auth_user u ON u.id = f.user_id
          LEFT JOIN passed_exams x ON x.user_id = f.user_id AND x.course_id = r.course_id
          WHERE f.status = 'complete' AND f.passed
            AND NOT EXISTS (SELECT 1 FROM grades_micromasterscoursecertificate cc WHERE cc.user_id = f.user_id AND cc.course_id = r.course_id)
            AND (NOT c.has_exam OR x.user_id IS NOT NULL)),
        ins AS (
          INSERT INTO grades_micromasterscoursecertificate (created_on, updated_on, hash, user_id, course_id)
            SELECT ?, ?, ${CERTIFICATE_HASH_SQL}, d.user_id, d.course_id FROM due d ORDER BY d.course_id, d.user_id RETURNING *),
        -- the new rows, labelled through primary keys (never one CTE joined to another)
        created AS (
          SELECT i.*, u.username, c.program_id, COALESCE(c.course_number, c.title) AS course
          FROM ins i JOIN auth_user u ON u.id = i.user_id JOIN courses_course c ON c.id = i.course_id),
        audited AS (
          INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS})
            SELECT ?::text, 'course-certificate', NULL, NULL::integer, n.user_id, n.username, NULL::jsonb,
              jsonb_build_object('created_on', ${djangoTimeSql('n.created_on')}, 'updated_on', ${djangoTimeSql('n.updated_on')}, 'hash', n.hash,
                'user', n.user_id, 'course', n.course_id, 'id', n.id),
              jsonb_build_object('courseId', n.course_id, 'programId', n.program_id)
            FROM created n)
        SELECT n.user_id, n.course_id, n.program_id, n.username, n.course FROM created n ORDER BY n.course_id, n.user_id`,
        [...(options.programId === undefined ? [] : [options.programId]), now, now, now, ctx.operator],
      ),
    );
    const byCourse = new Map<number, { courseId: number; course: string; created: number }>();
    for (const d of due) {
      const entry = byCourse.get(d.course_id) ?? { courseId: d.course_id, course: d.course, created: 0 };
      entry.created += 1;
      byCourse.set(d.course_id, entry);
    }

    // Who generate_program_certificate runs for, per program: the signal route, then the command's.
    const candidates = new Map<number, Map<number, { userId: number; username: string }>>();
    const add = (programId: number, userId: number, username: string) => {
      const users = candidates.get(programId) ?? new Map<number, { userId: number; username: string }>();
      users.set(userId, { userId, username });
      candidates.set(programId, users);
    };
    for (const d of due) add(d.program_id, d.user_id, d.username);
    const frozenLive = programs.filter((p) => p.live && p.frozen).map((p) => p.id);
    if (frozenLive.length > 0) {
      const enrolled = rawRows<{ program_id: number; user_id: number; username: string }>(
        await trx.raw(
          `SELECT e.program_id, e.user_id, u.username FROM dashboard_programenrollment e JOIN auth_user u ON u.id = e.user_id
            WHERE e.program_id IN (SELECT value::integer FROM json_array_elements_text(?::json)) ORDER BY e.program_id, e.user_id`,
          [JSON.stringify(frozenLive)],
        ),
      );
      for (const e of enrolled) add(e.program_id, e.user_id, e.username);
    }

    const result: CertificatesResult = {
      courseCertificates: { created: due.length, byCourse: [...byCourse.values()] },
      programCertificates: { created: 0, byProgram: [] },
      programLetters: { created: 0, reactivated: 0 },
      programsNotFrozen: programs.filter((p) => p.live && !p.frozen).map((p) => ({ programId: p.id, program: p.title })),
    };
    for (const [programId, users] of [...candidates].sort((a, b) => a[0] - b[0])) {
      const requirements = await loadProgramRequirements(trx, programId);
      const r = await generateProgramCertificates(c, requirements, [...users.values()]);
      result.programCertificates.created += r.created.length;
      if (r.created.length > 0)
        result.programCertificates.byProgram.push({
          programId,
          program: programTitles.get(programId) ?? String(programId),
          created: r.created.length,
        });
      result.programLetters.created += r.letters.created;
      result.programLetters.reactivated += r.letters.reactivated;
    }
    return result;
  });
}
