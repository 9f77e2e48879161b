import { preparedRows, rawRows, type Db } from '../db.js';
import type { Provider } from './edx-settings.js';
import type { EdxObject } from './edx-client.js';
import { rowToSocialAuth, type SocialAuth, type SocialAuthRow } from './social-auth-store.js';

// The edX cache tables of spec 1.4: one row per (user, course run), `data` = the raw edX object.

export type CacheTable = 'dashboard_cachedenrollment' | 'dashboard_cachedcertificate' | 'dashboard_cachedcurrentgrade';

/** The columns of `dashboard_usercacherefreshtime` (spec 1.4). */
export type RefreshTimeColumn = 'enrollment' | 'certificate' | 'current_grade' | 'enrollment_mitxonline' | 'current_grade_mitxonline';

export interface RefreshInputs {
  social: SocialAuth | null;
  /** The course keys to ask edX about (spec 2.3 step 4). */
  courseKeys: string[];
}

/**
 * What a grade refresh starts from, in one round trip (it runs once per learner in every freeze):
 * the learner's social-auth row for the backend, and the course keys of their cached enrollments
 * on runs of the backend, read from the enrollment data as the reference does, with the run's own
 * key as the last resort.
 */
export async function loadRefreshInputs(db: Db, userId: number, provider: Provider): Promise<RefreshInputs> {
  return (await loadRefreshInputsMany(db, [userId], provider)).get(userId)!;
}

/** `loadRefreshInputs` for many learners in one statement: the freeze job reads them ahead, a slice of its queue at a time. */
export async function loadRefreshInputsMany(db: Db, userIds: readonly number[], provider: Provider): Promise<Map<number, RefreshInputs>> {
  const rows = await preparedRows<{ user_id: number; social: SocialAuthRow | null; course_keys: Array<string | null> | null }>(
    db,
    `SELECT u.user_id,
            (SELECT row_to_json(s) FROM (
               SELECT id, user_id, provider, uid, extra_data FROM social_auth_usersocialauth WHERE user_id = u.user_id AND provider = ? LIMIT 1
             ) s) AS social,
            (SELECT json_agg(k.course_key ORDER BY k.run_id) FROM (
               SELECT r.id AS run_id,
                      COALESCE(NULLIF(e.data->'course_details'->>'course_id', ''), NULLIF(e.data->>'course_id', ''), r.edx_course_key) AS course_key
                 FROM dashboard_cachedenrollment e JOIN courses_courserun r ON r.id = e.course_run_id
                WHERE e.user_id = u.user_id AND r.courseware_backend = ?
             ) k) AS course_keys
       FROM (SELECT DISTINCT value::integer AS user_id FROM jsonb_array_elements_text(?::jsonb)) u`,
    [provider, provider, JSON.stringify(userIds)],
  );
  const inputs = new Map<number, RefreshInputs>();
  for (const id of userIds) inputs.set(id, { social: null, courseKeys: [] });
  for (const row of rows) {
    const keys = (row.course_keys ?? []).filter((k): k is string => Boolean(k));
    inputs.set(Number(row.user_id), { social: row.social ? rowToSocialAuth(row.social) : null, courseKeys: [...new Set(keys)] });
  }
  return inputs;
}

export interface CacheAnswer {
  /** The course key edX answered about; answers for keys that are not runs of the backend are dropped (spec 1.4). */
  courseKey: string;
  data: EdxObject;
}

const TABLES: ReadonlySet<string> = new Set<CacheTable>([
  'dashboard_cachedenrollment',
  'dashboard_cachedcertificate',
  'dashboard_cachedcurrentgrade',
]);
const COLUMNS: ReadonlySet<string> = new Set<RefreshTimeColumn>([
  'enrollment',
  'certificate',
  'current_grade',
  'enrollment_mitxonline',
  'current_grade_mitxonline',
]);

/**
 * spec 2.3 steps 4–5 in one statement: upsert what edX just said, delete the user's other rows of
 * `table` on runs of the backend, and stamp the refresh time. With `onlyRunId` (the batch freeze's
 * targeted refresh, spec 5b) the same rules cover that run's row alone: answers about other runs
 * are not stored and the learner's rows on other runs are left as they are.
 */
export async function replaceCachedRows(
  db: Db,
  table: CacheTable,
  column: RefreshTimeColumn,
  userId: number,
  provider: Provider,
  answers: readonly CacheAnswer[],
  now: Date,
  onlyRunId: number | null = null,
): Promise<{ stored: number; removed: number }> {
  return replaceCachedRowsMany(db, table, column, [{ userId, answers }], provider, now, onlyRunId);
}

/**
 * `replaceCachedRows` for several learners in one statement (one statement is atomic on its own):
 * the freeze job writes a batch of learners' cache rows in one round trip instead of two each.
 * The last answer for a run wins, and rows go in (user, run) order so two concurrent writers lock
 * them in the same order (no deadlock). A learner may appear once per call.
 */
export async function replaceCachedRowsMany(
  db: Db,
  table: CacheTable,
  column: RefreshTimeColumn,
  learners: ReadonlyArray<{ userId: number; answers: readonly CacheAnswer[] }>,
  provider: Provider,
  now: Date,
  onlyRunId: number | null = null,
): Promise<{ stored: number; removed: number }> {
  // Identifiers cannot be bound; these two come from closed unions, checked again here.
  if (!TABLES.has(table) || !COLUMNS.has(column)) throw new Error(`not a cache table/column: ${table}.${column}`);
  if (learners.length === 0) return { stored: 0, removed: 0 };
  if (new Set(learners.map((l) => l.userId)).size !== learners.length) throw new Error('replaceCachedRowsMany: a learner appears twice');
  const payload = JSON.stringify(
    learners.map((l) => ({ user: l.userId, answers: l.answers.map((a) => ({ key: a.courseKey, data: a.data })) })),
  );
  const rows = await preparedRows<{ stored: string | number; removed: string | number }>(
    db,
    `WITH input AS (
       SELECT (x.u->>'user')::integer AS user_id, x.u->'answers' AS answers FROM jsonb_array_elements(?::jsonb) AS x(u)
     ), answers AS (
       SELECT DISTINCT ON (i.user_id, r.id) i.user_id, r.id AS course_run_id, a.item->'data' AS data
         FROM input i CROSS JOIN LATERAL jsonb_array_elements(i.answers) WITH ORDINALITY AS a(item, ord)
         JOIN courses_courserun r ON r.edx_course_key = a.item->>'key' AND r.courseware_backend = ?
        WHERE ?::integer IS NULL OR r.id = ?::integer
        ORDER BY i.user_id, r.id, a.ord DESC
     ), stored AS (
       INSERT INTO ${table} (user_id, course_run_id, data)
       SELECT user_id, course_run_id, data FROM answers ORDER BY user_id, course_run_id
       ON CONFLICT (user_id, course_run_id) DO UPDATE SET data = EXCLUDED.data
       RETURNING 1
     ), removed AS (
       DELETE FROM ${table} t USING courses_courserun r, input i
        WHERE t.user_id = i.user_id AND r.id = t.course_run_id AND r.courseware_backend = ?
          AND (?::integer IS NULL OR t.course_run_id = ?::integer)
          AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.user_id = t.user_id AND a.course_run_id = t.course_run_id)
       RETURNING 1
     ), stamped AS (
       INSERT INTO dashboard_usercacherefreshtime (user_id, ${column})
       SELECT user_id, ?::timestamptz FROM input ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET ${column} = EXCLUDED.${column}
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM removed) AS removed, (SELECT count(*) FROM stamped) AS stamped`,
    [payload, provider, onlyRunId, onlyRunId, provider, onlyRunId, onlyRunId, now],
  );
  return { stored: Number(rows[0].stored), removed: Number(rows[0].removed) };
}

/** One cached row of a learner, with the key of its course run. */
export interface CachedRow {
  table: CacheTable;
  courseRunId: number;
  courseKey: string;
  provider: Provider;
  data: EdxObject;
}

/** Every cached enrollment, certificate and current grade of the learner on runs of these backends. */
export async function listCachedRows(db: Db, userId: number, providers: readonly Provider[]): Promise<CachedRow[]> {
  if (providers.length === 0) return [];
  const rows = await db.raw(
    `SELECT t.tbl, t.course_run_id, r.edx_course_key, r.courseware_backend, t.data FROM (
       SELECT 'dashboard_cachedenrollment' AS tbl, course_run_id, data FROM dashboard_cachedenrollment WHERE user_id = ?
       UNION ALL SELECT 'dashboard_cachedcertificate', course_run_id, data FROM dashboard_cachedcertificate WHERE user_id = ?
       UNION ALL SELECT 'dashboard_cachedcurrentgrade', course_run_id, data FROM dashboard_cachedcurrentgrade WHERE user_id = ?
     ) t JOIN courses_courserun r ON r.id = t.course_run_id
     WHERE r.courseware_backend IN (${providers.map(() => '?').join(', ')})
     ORDER BY r.edx_course_key, t.tbl`,
    [userId, userId, userId, ...providers],
  );
  return rawRows<{ tbl: CacheTable; course_run_id: number; edx_course_key: string; courseware_backend: Provider; data: unknown }>(rows).map(
    (r) => ({
      table: r.tbl,
      courseRunId: Number(r.course_run_id),
      courseKey: r.edx_course_key,
      provider: r.courseware_backend,
      data: (r.data ?? {}) as EdxObject,
    }),
  );
}
