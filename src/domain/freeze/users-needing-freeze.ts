import { rawRows, type Db } from '../db.js';

// spec 2.2, the one definition of who needs a freeze: cached enrollment ∩ cached current grade −
// complete FinalGrade. The freeze job's id list and freeze-status's counts both read it from here
// (issue 6 §3), so the two can never disagree.

/**
 * The rule as CTEs: `frozen` (complete FinalGrades) and `need` (who needs a freeze). For one run
 * (the named binding `:run`) they hold user ids; for every run at once (the console's home table)
 * they hold (course_run_id, user_id). Both come from this one text, so no copy of the rule can
 * drift from the other.
 */
function needsFreezeCtes(scope: 'one run' | 'every run'): string {
  const one = scope === 'one run';
  const who = (t: string) => (one ? `${t}.user_id` : `${t}.course_run_id, ${t}.user_id`);
  const sameRun = one ? '' : ' AND frozen.course_run_id = c.course_run_id';
  return `frozen AS MATERIALIZED (
    SELECT ${who('f')} FROM grades_finalgrade f WHERE ${one ? 'f.course_run_id = :run AND ' : ''}f.status = 'complete'),
  cached AS (
    SELECT ${who('e')} FROM dashboard_cachedenrollment e
      JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id${one ? '\n     WHERE e.course_run_id = :run' : ''}),
  need AS (
    SELECT ${who('c')} FROM cached c WHERE NOT EXISTS (SELECT 1 FROM frozen WHERE frozen.user_id = c.user_id${sameRun}))`;
}

/**
 * The rule over the named binding `:run`: `frozen` and `need` hold user ids. Statements read
 * `WITH ${NEEDS_FREEZE_CTES} SELECT …`; a counting statement reads both, so the run's complete
 * FinalGrades are scanned once. Shaped for PostgreSQL's plan at 100k enrollments: a merge
 * anti-join against the materialized frozen set over the unique (user, run) indexes
 * (bench/RESULTS.md (c)).
 */
export const NEEDS_FREEZE_CTES = needsFreezeCtes('one run');

/** The same rule for every run at once: `frozen` and `need` hold (course_run_id, user_id). */
export const NEEDS_FREEZE_BY_RUN_CTES = needsFreezeCtes('every run');

export async function usersNeedingFreeze(db: Db, courseRunId: number): Promise<number[]> {
  const rows = rawRows<{ user_id: number }>(
    await db.raw(`WITH ${NEEDS_FREEZE_CTES} SELECT need.user_id FROM need ORDER BY need.user_id`, { run: courseRunId }),
  );
  return rows.map((r) => r.user_id);
}

/** Where one learner stands against the rule above, from the three tables it reads. */
export interface RuleStanding {
  cachedEnrollment: boolean;
  cachedCurrentGrade: boolean;
  /** Has a complete FinalGrade for the run. */
  frozen: boolean;
}

/** The rule above for one learner. */
export function needsFreeze(s: RuleStanding): boolean {
  return s.cachedEnrollment && s.cachedCurrentGrade && !s.frozen;
}

/**
 * The rule for the learners of the named binding `:ids` (int[]) in `:run`, as the CTE
 * `standing(user_id, flags)`: flags 1 cached enrollment, 2 cached current grade, 4 complete
 * FinalGrade. Index probes per learner: a few hundred failed ids cost a few hundred lookups, never
 * a scan of the run's 100k cached rows. LATERAL … LIMIT 1 keeps them probes: as plain joins (or
 * EXISTS) PostgreSQL hashes the run's 30k complete FinalGrades instead (issue 10 §3).
 */
export const STANDING_CTE = `standing AS (
    SELECT ids.user_id,
           (CASE WHEN e.yes THEN 1 ELSE 0 END) + (CASE WHEN g.yes THEN 2 ELSE 0 END) + (CASE WHEN f.yes THEN 4 ELSE 0 END) AS flags
      FROM unnest(:ids::int[]) AS ids(user_id)
      LEFT JOIN LATERAL (SELECT true AS yes FROM dashboard_cachedenrollment e
                          WHERE e.user_id = ids.user_id AND e.course_run_id = :run LIMIT 1) e ON true
      LEFT JOIN LATERAL (SELECT true AS yes FROM dashboard_cachedcurrentgrade g
                          WHERE g.user_id = ids.user_id AND g.course_run_id = :run LIMIT 1) g ON true
      LEFT JOIN LATERAL (SELECT true AS yes FROM grades_finalgrade f
                          WHERE f.user_id = ids.user_id AND f.course_run_id = :run AND f.status = 'complete' LIMIT 1) f ON true)`;

export function standingFromFlags(flags: number): RuleStanding {
  return { cachedEnrollment: (flags & 1) !== 0, cachedCurrentGrade: (flags & 2) !== 0, frozen: (flags & 4) !== 0 };
}

/** In id order: neighbouring probes read neighbouring index pages. */
export function inIdOrder(userIds: readonly number[]): number[] {
  return [...userIds].sort((a, b) => a - b);
}

/** STANDING_CTE for the given learners. */
export async function ruleStandingsOf(db: Db, courseRunId: number, userIds: readonly number[]): Promise<Map<number, RuleStanding>> {
  if (userIds.length === 0) return new Map();
  const rows = rawRows<{ user_id: number; flags: number }>(
    await db.raw(`WITH ${STANDING_CTE} SELECT user_id, flags FROM standing`, { run: courseRunId, ids: inIdOrder(userIds) }),
  );
  return new Map(rows.map((r) => [Number(r.user_id), standingFromFlags(Number(r.flags))]));
}

/** Who a listed learner is, and gradeops' record of their last failed attempt on the run. */
export interface ListedLearner {
  /** null: no auth_user row has this id. */
  username: string | null;
  /** gradeops' record of the learner's last failed attempt on this run (gradeops_freeze_failure). */
  lastFailure: { reason: string; message: string; failedOn: Date } | null;
}

export async function listedLearners(db: Db, courseRunId: number, userIds: readonly number[]): Promise<Map<number, ListedLearner>> {
  if (userIds.length === 0) return new Map();
  const rows = rawRows<{ user_id: number; username: string | null; reason: string | null; message: string | null; failed_on: unknown }>(
    await db.raw(
      `SELECT ids.user_id, u.username, x.reason, x.message, x.failed_on
         FROM unnest(:ids::int[]) AS ids(user_id)
         LEFT JOIN auth_user u ON u.id = ids.user_id
         LEFT JOIN gradeops_freeze_failure x ON x.user_id = ids.user_id AND x.course_run_id = :run`,
      { run: courseRunId, ids: inIdOrder(userIds) },
    ),
  );
  return new Map(
    rows.map((r) => [
      Number(r.user_id),
      {
        username: r.username,
        lastFailure: r.reason === null ? null : { reason: r.reason, message: r.message ?? '', failedOn: new Date(r.failed_on as string) },
      },
    ]),
  );
}

/** Where one learner stands against the rule above; `needsFreeze` is that rule for this learner. */
export interface LearnerStanding extends RuleStanding, ListedLearner {
  userId: number;
  needsFreeze: boolean;
}

export function learnerStanding(userId: number, rule: RuleStanding, who: ListedLearner | undefined): LearnerStanding {
  return { userId, ...rule, needsFreeze: needsFreeze(rule), username: who?.username ?? null, lastFailure: who?.lastFailure ?? null };
}

/** The same rule for a few given learners (the failed list), with who they are. */
export async function standingOf(db: Db, courseRunId: number, userIds: readonly number[]): Promise<LearnerStanding[]> {
  const rules = await ruleStandingsOf(db, courseRunId, userIds);
  const who = await listedLearners(db, courseRunId, userIds);
  return inIdOrder(userIds).map((id) => learnerStanding(id, rules.get(id)!, who.get(id)));
}
