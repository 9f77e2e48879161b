import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit } from '../audit/audit-log.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { OpsError } from '../errors.js';
import { findLearnerByUsername } from '../users.js';
import { enrollmentCourseKey, fetchGradeAnswers } from './cache-refresh.js';
import { listCachedRows, replaceCachedRows, type CacheAnswer, type CacheTable, type CachedRow } from './cache-store.js';
import type { EdxObject } from './edx-client.js';
import { PROVIDERS, type Provider } from './edx-settings.js';
import { ensureExamProfileForEnrollments, type EnrollmentExamProfile } from './enrollment-exam-profile.js';
import { serviceName } from './providers.js';
import { findSocialAuth } from './social-auth-store.js';
import { openUserSession } from './user-token.js';

// spec 2.3, the general path, for one learner on demand (spec 2.9 step 3, E10): per backend the
// token first when due, then enrollments, certificates (edX only) and current grades, each with
// the upsert / delete-the-others / stamp rules. Every edX call happens before the write, and the
// write is one transaction with its audit row: a failure anywhere leaves the cache as it was
// (a token edX already rotated is saved at once, as everywhere else).

/** The fields of a cached row an operator compares: the ones the grading rules read (spec 1.4). */
export type CachedValues = Record<string, unknown>;

export interface EdxDataChange {
  table: CacheTable;
  courseKey: string;
  change: 'added' | 'removed' | 'changed';
  before: CachedValues | null;
  after: CachedValues | null;
}

export interface LearnerRefreshResult {
  username: string;
  /** The backends refreshed: the run's, or every backend the learner has linked. */
  backends: Provider[];
  /** Row by row, in spec order (enrollments, certificates, current grades), then by course key. */
  changes: EdxDataChange[];
  /** Backends whose stored token was due and was refreshed first. */
  tokensRefreshed: Provider[];
  /** spec 2.8: what the saved enrollments did to the exam profile (null: no course with an exam still eligible). */
  examProfile: EnrollmentExamProfile | null;
}

const TABLE_ORDER: readonly CacheTable[] = ['dashboard_cachedenrollment', 'dashboard_cachedcertificate', 'dashboard_cachedcurrentgrade'];

/** mode / percent / passed / certificate status: what decides a final grade (spec 2.4). */
export function cachedValues(table: CacheTable, data: EdxObject): CachedValues {
  if (table === 'dashboard_cachedenrollment') return { mode: data.mode ?? null, isActive: data.is_active ?? null };
  if (table === 'dashboard_cachedcertificate') return { certificateType: data.certificate_type ?? null, status: data.status ?? null };
  return { percent: data.percent ?? null, passed: data.passed ?? null };
}

interface FetchedBackend {
  provider: Provider;
  tokenRefreshed: boolean;
  enrollments: CacheAnswer[];
  certificates: CacheAnswer[] | null;
  currentGrades: CacheAnswer[];
}

async function knownRunKeys(ctx: DomainContext, provider: Provider, keys: string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const known = new Set<string>(
    await ctx.db('courses_courserun').where('courseware_backend', provider).whereIn('edx_course_key', keys).pluck('edx_course_key'),
  );
  return keys.filter((k) => known.has(k));
}

async function fetchBackend(ctx: DomainContext, userId: number, provider: Provider, now: Date): Promise<FetchedBackend> {
  const { social, client, tokenRefreshed } = await openUserSession(ctx.db, ctx.edx, userId, provider, now);
  // spec 2.3: a 400/401 here means the stored token is no good (invalid-credentials, from the client).
  const enrollments = (await client.getEnrollments()).flatMap((data): CacheAnswer[] => {
    const courseKey = enrollmentCourseKey(data);
    return courseKey ? [{ courseKey, data }] : [];
  });
  // spec 2.3 step 4: certificates and grades are asked for the course keys of the cached
  // enrollments, which after this refresh are the returned enrollments on known runs.
  const courseKeys = await knownRunKeys(ctx, provider, [...new Set(enrollments.map((e) => e.courseKey))]);
  const { certificates, currentGrades } = await fetchGradeAnswers(client, social.uid, courseKeys);
  return { provider, tokenRefreshed, enrollments, certificates, currentGrades };
}

function diffRows(before: CachedRow[], after: CachedRow[]): EdxDataChange[] {
  const id = (r: CachedRow) => `${r.table} ${r.courseRunId}`;
  const was = new Map(before.map((r) => [id(r), r]));
  const kept = new Set(after.map(id));
  const changes: EdxDataChange[] = [];
  for (const row of after) {
    const old = was.get(id(row));
    const values = cachedValues(row.table, row.data);
    if (!old) {
      changes.push({ table: row.table, courseKey: row.courseKey, change: 'added', before: null, after: values });
      continue;
    }
    const oldValues = cachedValues(old.table, old.data);
    // Rewritten rows whose graded fields are the same (a new `created`, an email) are not changes.
    if (JSON.stringify(oldValues) !== JSON.stringify(values))
      changes.push({ table: row.table, courseKey: row.courseKey, change: 'changed', before: oldValues, after: values });
  }
  for (const row of before) {
    if (!kept.has(id(row)))
      changes.push({
        table: row.table,
        courseKey: row.courseKey,
        change: 'removed',
        before: cachedValues(row.table, row.data),
        after: null,
      });
  }
  const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0); // code points, whatever the locale
  return changes.sort((a, b) => TABLE_ORDER.indexOf(a.table) - TABLE_ORDER.indexOf(b.table) || byKey(a.courseKey, b.courseKey));
}

/** The backends to refresh: the run's when a course key is given, else every backend the learner has linked. */
async function backendsFor(ctx: DomainContext, userId: number, username: string, run: CourseRun | null): Promise<Provider[]> {
  if (run) return [run.backend];
  const linked: Provider[] = [];
  for (const provider of PROVIDERS) if (await findSocialAuth(ctx.db, userId, provider)) linked.push(provider);
  if (linked.length === 0) {
    throw new OpsError(
      'no-social-auth',
      `${username} has no ${PROVIDERS.map(serviceName).join(' or ')} account linked, so there is nothing to refresh`,
      'the learner must log in to MicroMasters with edX or MITx Online once, then refresh again',
    );
  }
  return linked;
}

/**
 * `gradeops refresh`, the TUI's "refresh edX data" and the REPL's `refreshEdxCache`: refreshes the
 * learner's cached edX data for the course run's backend, or for every linked backend when no
 * course key is given, and says row by row what changed.
 */
export async function refreshLearnerEdxData(ctx: DomainContext, username: string, courseKey?: string): Promise<LearnerRefreshResult> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const run = courseKey === undefined ? null : await findCourseRunByKey(ctx.db, courseKey);
  const backends = await backendsFor(ctx, learner.id, learner.username, run);
  const now = nowOf(ctx);

  const fetched: FetchedBackend[] = [];
  for (const provider of backends) fetched.push(await fetchBackend(ctx, learner.id, provider, now));

  return ctx.db.transaction(async (trx) => {
    const before = await listCachedRows(trx, learner.id, backends);
    for (const f of fetched) {
      const edx = f.provider === 'edxorg';
      await replaceCachedRows(
        trx,
        'dashboard_cachedenrollment',
        edx ? 'enrollment' : 'enrollment_mitxonline',
        learner.id,
        f.provider,
        f.enrollments,
        now,
      );
      // spec 2.3 step 4: MITx Online has no certificates: nothing fetched, deleted or stamped.
      if (f.certificates)
        await replaceCachedRows(trx, 'dashboard_cachedcertificate', 'certificate', learner.id, f.provider, f.certificates, now);
      await replaceCachedRows(
        trx,
        'dashboard_cachedcurrentgrade',
        edx ? 'current_grade' : 'current_grade_mitxonline',
        learner.id,
        f.provider,
        f.currentGrades,
        now,
      );
    }
    const after = await listCachedRows(trx, learner.id, backends);
    const changes = diffRows(before, after);
    const tokensRefreshed = fetched.filter((f) => f.tokenRefreshed).map((f) => f.provider);
    const examProfile = await ensureExamProfileForEnrollments(
      trx,
      { operator: ctx.operator, userId: learner.id, username: learner.username },
      backends,
      now,
    );
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'refresh-edx-data',
      userId: learner.id,
      username: learner.username,
      courseKey: run?.courseKey ?? null,
      courseRunId: run?.id ?? null,
      before: changes.filter((c) => c.before).map((c) => ({ table: c.table, courseKey: c.courseKey, values: c.before })),
      after: changes.filter((c) => c.after).map((c) => ({ table: c.table, courseKey: c.courseKey, values: c.after })),
      detail: { backends, tokensRefreshed, changes: changes.length, examProfile: examProfile?.outcome ?? null },
    });
    return { username: learner.username, backends, changes, tokensRefreshed, examProfile };
  });
}
