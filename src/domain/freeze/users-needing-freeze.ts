import { rawRows, type Db } from '../db.js';

// spec 2.2, the one definition of who needs a freeze: cached enrollment ∩ cached current grade −
// complete FinalGrade. The freeze job's id list and freeze-status's counts both read it from here
// (issue 6 §3), so the two can never disagree.

/**
 * The rule as CTEs over the named binding `:run`: `frozen` (user ids with a complete FinalGrade)
 * and `need` (user ids needing a freeze). Statements read `WITH ${NEEDS_FREEZE_CTES} SELECT …`; a
 * counting statement reads both, so the run's complete FinalGrades are scanned once. Shaped for
 * PostgreSQL's plan at 100k enrollments: a merge anti-join against the materialized frozen set
 * over the unique (user, run) indexes (bench/RESULTS.md (c)).
 */
export const NEEDS_FREEZE_CTES = `frozen AS MATERIALIZED (
    SELECT f.user_id FROM grades_finalgrade f WHERE f.course_run_id = :run AND f.status = 'complete'),
  cached AS (
    SELECT e.user_id FROM dashboard_cachedenrollment e
      JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
     WHERE e.course_run_id = :run),
  need AS (
    SELECT c.user_id FROM cached c WHERE NOT EXISTS (SELECT 1 FROM frozen WHERE frozen.user_id = c.user_id))`;

export async function usersNeedingFreeze(db: Db, courseRunId: number): Promise<number[]> {
  const rows = rawRows<{ user_id: number }>(
    await db.raw(`WITH ${NEEDS_FREEZE_CTES} SELECT need.user_id FROM need ORDER BY need.user_id`, { run: courseRunId }),
  );
  return rows.map((r) => r.user_id);
}

/** Where one learner stands against the rule above; `needsFreeze` is that rule for this learner. */
export interface LearnerStanding {
  userId: number;
  /** null: no auth_user row has this id. */
  username: string | null;
  cachedEnrollment: boolean;
  cachedCurrentGrade: boolean;
  /** Has a complete FinalGrade for the run. */
  frozen: boolean;
  needsFreeze: boolean;
  /** gradeops' record of the learner's last failed attempt on this run (gradeops_freeze_failure). */
  lastFailure: { reason: string; message: string; failedOn: Date } | null;
}

/**
 * The same rule for a few given learners (the failed list), probed through the unique (user, run)
 * indexes instead of scanning the run's enrollments: freeze-status must stay fast at 100k.
 */
export async function standingOf(db: Db, courseRunId: number, userIds: readonly number[]): Promise<LearnerStanding[]> {
  if (userIds.length === 0) return [];
  const rows = rawRows<{
    user_id: number;
    username: string | null;
    enrolled: boolean;
    graded: boolean;
    frozen: boolean;
    reason: string | null;
    message: string | null;
    failed_on: unknown;
  }>(
    await db.raw(
      // Index probes per listed learner: a few hundred failed ids cost a few hundred lookups, never
      // a scan of the run's 100k cached rows. LATERAL … LIMIT 1 keeps them probes: as plain joins
      // (or EXISTS) PostgreSQL hashes the run's 30k complete FinalGrades instead (issue 10 §3).
      `SELECT ids.user_id, u.username, e.yes IS NOT NULL AS enrolled, g.yes IS NOT NULL AS graded,
              f.yes IS NOT NULL AS frozen, x.reason, x.message, x.failed_on
         FROM unnest(:ids::int[]) AS ids(user_id)
         LEFT JOIN auth_user u ON u.id = ids.user_id
         LEFT JOIN LATERAL (SELECT true AS yes FROM dashboard_cachedenrollment e
                             WHERE e.user_id = ids.user_id AND e.course_run_id = :run LIMIT 1) e ON true
         LEFT JOIN LATERAL (SELECT true AS yes FROM dashboard_cachedcurrentgrade g
                             WHERE g.user_id = ids.user_id AND g.course_run_id = :run LIMIT 1) g ON true
         LEFT JOIN LATERAL (SELECT true AS yes FROM grades_finalgrade f
                             WHERE f.user_id = ids.user_id AND f.course_run_id = :run AND f.status = 'complete' LIMIT 1) f ON true
         LEFT JOIN gradeops_freeze_failure x ON x.user_id = ids.user_id AND x.course_run_id = :run`,
      // In id order: neighbouring probes read neighbouring index pages.
      { run: courseRunId, ids: [...userIds].sort((a, b) => a - b) },
    ),
  );
  return rows.map((r) => ({
    userId: r.user_id,
    username: r.username,
    cachedEnrollment: Boolean(r.enrolled),
    cachedCurrentGrade: Boolean(r.graded),
    frozen: Boolean(r.frozen),
    needsFreeze: Boolean(r.enrolled) && Boolean(r.graded) && !r.frozen,
    lastFailure: r.reason === null ? null : { reason: r.reason, message: r.message ?? '', failedOn: new Date(r.failed_on as string) },
  }));
}
