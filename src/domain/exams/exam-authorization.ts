import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit, type AuditSubject } from '../audit/audit-log.js';
import type { FinalGrade } from '../final-grades/final-grade-store.js';
import { rawRows } from '../db.js';
import { placeholders, type SqlFragment } from '../sql-facts.js';
import type { ExamRunWindow } from './exam-runs.js';

// spec 2.8 (exams/signals.py → authorize_user_for_schedulable_exam_runs), for a FinalGrade saved
// with course_run_paid_on_edx = true and each currently schedulable exam run of its course:
// an inactive user is not authorized; otherwise the exam profile is ensured (get-or-create,
// status pending), and a learner whose FinalGrade for this run is complete and passed gets an
// ExamAuthorization by get_or_create(user, course, exam_run, status='success').

export interface ExamAuthorization {
  id: number;
  userId: number;
  courseId: number;
  examRunId: number;
  status: string;
  operation: string;
}

export type ExamAuthorizationOutcome =
  | {
      outcome: 'done';
      /** The exams_examprofile id, and whether this call created it. */
      examProfile: { id: number; created: boolean };
      created: ExamAuthorization[];
      /** Exam runs the learner was already authorized for (status success). */
      alreadyAuthorizedExamRunIds: number[];
      /** Set when no authorization was due: the FinalGrade is not complete and passed. */
      notAuthorizedBecause?: 'final-grade-not-passed';
    }
  | { outcome: 'skipped'; reason: 'inactive-user' | 'no-profile'; note: string };

interface Facts {
  isActive: boolean;
  profileId: number | null;
  examProfileId: number | null;
  authorizedExamRunIds: number[] | null;
}

function rowToExamAuthorization(r: Record<string, unknown>): ExamAuthorization {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    courseId: r.course_id as number,
    examRunId: r.exam_run_id as number,
    status: r.status as string,
    operation: r.operation as string,
  };
}

/** Whether the learner is active, their profile and exam profile, and the runs they are authorized for. */
export function examAuthorizationFact(userId: number, courseId: number, examRuns: readonly ExamRunWindow[]): SqlFragment {
  const ids = examRuns.map((e) => e.id);
  return {
    sql: `SELECT json_build_object('isActive', u.is_active, 'profileId', p.id, 'examProfileId', ep.id,
        'authorizedExamRunIds', (SELECT json_agg(DISTINCT a.exam_run_id) FROM exams_examauthorization a
          WHERE a.user_id = u.id AND a.course_id = ? AND a.status = 'success' AND a.exam_run_id IN (${placeholders(ids)})))
      FROM auth_user u LEFT JOIN profiles_profile p ON p.user_id = u.id LEFT JOIN exams_examprofile ep ON ep.profile_id = p.id
      WHERE u.id = ?`,
    bindings: [courseId, ...ids, userId],
  };
}

export async function authorizeForSchedulableExamRuns(
  ctx: DomainContext,
  subject: AuditSubject,
  finalGrade: FinalGrade,
  courseId: number,
  examRuns: readonly ExamRunWindow[],
  fact: unknown,
): Promise<ExamAuthorizationOutcome> {
  const facts = fact as Facts | null;
  if (!facts || !facts.isActive) {
    return {
      outcome: 'skipped',
      reason: 'inactive-user',
      note: 'the learner is inactive (auth_user.is_active is false): MicroMasters does not authorize inactive users for exams',
    };
  }
  if (facts.profileId === null) {
    // MicroMasters reads user.profile before authorizing, which raises for a user without one.
    return {
      outcome: 'skipped',
      reason: 'no-profile',
      note: 'the learner has no profiles_profile row, so no exam profile can be made and MicroMasters would not authorize them either; they must complete their MicroMasters profile',
    };
  }
  const already = new Set((facts.authorizedExamRunIds ?? []).map(Number));
  const passed = finalGrade.status === 'complete' && finalGrade.passed;
  const due = passed ? examRuns.filter((e) => !already.has(e.id)) : [];
  const alreadyAuthorizedExamRunIds = examRuns.filter((e) => already.has(e.id)).map((e) => e.id);
  const notAuthorizedBecause = passed ? undefined : ('final-grade-not-passed' as const);
  if (facts.examProfileId !== null && due.length === 0) {
    return {
      outcome: 'done',
      examProfile: { id: facts.examProfileId, created: false },
      created: [],
      alreadyAuthorizedExamRunIds,
      notAuthorizedBecause,
    };
  }

  return ctx.db.transaction(async (trx) => {
    const now = nowOf(ctx);
    let examProfile = { id: facts.examProfileId ?? 0, created: false };
    if (facts.examProfileId === null) {
      const [row] = await trx('exams_examprofile')
        .insert({ created_on: now, updated_on: now, profile_id: facts.profileId, status: 'pending' })
        .onConflict('profile_id')
        .ignore()
        .returning('*');
      if (row) {
        examProfile = { id: row.id, created: true };
        await writeAudit(trx, {
          operator: ctx.operator,
          action: 'exam-profile',
          ...subject,
          before: null,
          after: { id: row.id, profile: row.profile_id, status: row.status, created_on: now.toISOString(), updated_on: now.toISOString() },
          detail: { courseId, finalGradeId: finalGrade.id },
        });
      } else {
        examProfile = { id: (await trx('exams_examprofile').where('profile_id', facts.profileId).first('id')).id, created: false };
      }
    }
    const created: ExamAuthorization[] = [];
    for (const examRun of due) {
      // get_or_create: the NOT EXISTS re-check keeps a concurrent writer from doubling the row.
      const inserted = await trx.raw(
        `INSERT INTO exams_examauthorization
          (created_on, updated_on, user_id, course_id, exam_run_id, operation, status, exam_taken, exam_no_show, exam_coupon_url, exam_coupon_id)
        SELECT ?, ?, ?, ?, ?, 'add', 'success', false, false, NULL, NULL
        WHERE NOT EXISTS (SELECT 1 FROM exams_examauthorization
          WHERE user_id = ? AND course_id = ? AND exam_run_id = ? AND status = 'success')
        RETURNING *`,
        [now, now, subject.userId, courseId, examRun.id, subject.userId, courseId, examRun.id],
      );
      const [row] = rawRows<Record<string, unknown>>(inserted);
      if (!row) {
        alreadyAuthorizedExamRunIds.push(examRun.id);
        continue;
      }
      const authorization = rowToExamAuthorization(row);
      created.push(authorization);
      await writeAudit(trx, {
        operator: ctx.operator,
        action: 'exam-authorization',
        ...subject,
        before: null,
        after: {
          id: authorization.id,
          user: authorization.userId,
          course: authorization.courseId,
          exam_run: authorization.examRunId,
          operation: authorization.operation,
          status: authorization.status,
          exam_taken: false,
          exam_no_show: false,
          created_on: now.toISOString(),
          updated_on: now.toISOString(),
        },
        detail: { finalGradeId: finalGrade.id },
      });
    }
    return { outcome: 'done' as const, examProfile, created, alreadyAuthorizedExamRunIds, notAuthorizedBecause };
  });
}
