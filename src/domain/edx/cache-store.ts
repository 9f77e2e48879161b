import type { Knex } from 'knex';
import { affectedRows, rawRows, type Db } from '../db.js';
import type { Provider } from './edx-settings.js';
import type { EdxObject } from './edx-client.js';

// The edX cache tables of spec 1.4: one row per (user, course run), `data` = the raw edX object.

export type CacheTable = 'dashboard_cachedenrollment' | 'dashboard_cachedcertificate' | 'dashboard_cachedcurrentgrade';

/** The columns of `dashboard_usercacherefreshtime` (spec 1.4). */
export type RefreshTimeColumn = 'enrollment' | 'certificate' | 'current_grade' | 'enrollment_mitxonline' | 'current_grade_mitxonline';

export interface CacheRow {
  courseRunId: number;
  data: EdxObject;
}

/**
 * spec 2.3 step 4: the course keys of the user's cached enrollments on runs of the backend, read
 * from the enrollment data as the reference does, with the run's own key as the last resort.
 */
export async function cachedEnrollmentCourseKeys(db: Db, userId: number, provider: Provider): Promise<string[]> {
  const rows = rawRows<{ course_key: string | null }>(await db.raw(
    `SELECT COALESCE(NULLIF(e.data->'course_details'->>'course_id', ''), NULLIF(e.data->>'course_id', ''), r.edx_course_key) AS course_key
       FROM dashboard_cachedenrollment e JOIN courses_courserun r ON r.id = e.course_run_id
      WHERE e.user_id = ? AND r.courseware_backend = ?
      ORDER BY r.id`,
    [userId, provider],
  ));
  return [...new Set(rows.map((r) => r.course_key).filter((k): k is string => Boolean(k)))];
}

/** Known runs of the backend by course key (spec 1.4: rows exist only for known runs). */
export async function runIdsByCourseKey(db: Db, provider: Provider, keys: readonly string[]): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const rows = await db('courses_courserun')
    .whereIn('edx_course_key', [...new Set(keys)])
    .andWhere('courseware_backend', provider)
    .select<{ id: number; edx_course_key: string }[]>('id', 'edx_course_key');
  return new Map(rows.map((r) => [r.edx_course_key, r.id]));
}

/**
 * Upserts `rows` and deletes the user's other rows of `table` on runs of the backend: the cache
 * then holds exactly what edX just said (spec 2.3 steps 4–5). Call inside the write transaction.
 */
export async function replaceCachedRows(
  trx: Knex.Transaction, table: CacheTable, userId: number, provider: Provider, rows: readonly CacheRow[],
): Promise<{ stored: number; removed: number }> {
  // One upsert cannot touch the same (user, run) twice; the last answer for a run wins. Rows go in
  // run order so two concurrent refreshes of one learner lock them in the same order (no deadlock).
  const byRun = new Map<number, EdxObject>();
  for (const row of rows) byRun.set(row.courseRunId, row.data);
  if (byRun.size > 0) {
    await trx(table)
      .insert([...byRun].sort(([a], [b]) => a - b)
        .map(([courseRunId, data]) => ({ user_id: userId, course_run_id: courseRunId, data: JSON.stringify(data) })))
      .onConflict(['user_id', 'course_run_id'])
      .merge(['data']);
  }
  const removed = await trx(table)
    .where('user_id', userId)
    .whereIn('course_run_id', trx('courses_courserun').select('id').where('courseware_backend', provider))
    .whereNotIn('course_run_id', [...byRun.keys()])
    .del();
  return { stored: byRun.size, removed: affectedRows(removed) };
}

/** Upserts the user's refresh-time row, touching only `column` (spec 2.3 step 4). */
export async function stampRefreshTime(trx: Knex.Transaction, userId: number, column: RefreshTimeColumn, now: Date): Promise<void> {
  await trx('dashboard_usercacherefreshtime')
    .insert({ user_id: userId, [column]: now })
    .onConflict('user_id')
    .merge([column]);
}
