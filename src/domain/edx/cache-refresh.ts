import type { Db } from '../db.js';
import type { EdxSettings, Provider } from './edx-settings.js';
import type { EdxClient, EdxObject } from './edx-client.js';
import { loadRefreshInputs, replaceCachedRows, replaceCachedRowsMany, type CacheAnswer, type RefreshInputs } from './cache-store.js';
import { openUserSession } from './user-token.js';

// spec 2.3: refreshing one learner's cached edX data. Every edX call happens before the write:
// PGlite has one connection, and a write held open across HTTP would block every other
// learner's writes for the length of edX's latency.

export interface GradeCacheRefreshSummary {
  provider: Provider;
  tokenRefreshed: boolean;
  /** The course keys asked about: those of the learner's cached enrollments on the backend. */
  courseKeys: string[];
  /** Verified certificates now cached (always 0 for MITx Online, spec 2.3 step 4). */
  certificates: number;
  currentGrades: number;
  removedCertificates: number;
  removedCurrentGrades: number;
}

export interface EnrollmentRefreshSummary {
  provider: Provider;
  tokenRefreshed: boolean;
  courseKeys: string[];
  enrollments: number;
  removedEnrollments: number;
}

export interface RefreshOptions {
  now?: Date;
  /**
   * The batch freeze's targeted refresh (spec 5b): ask only about this run and apply the 2.3 rules
   * to its rows alone. Absent: MicroMasters' full refresh of every cached enrollment's course key.
   */
  onlyRun?: { id: number; courseKey: string };
  /** The learner's social-auth row and cached enrollment keys, when the caller read them ahead (the freeze job). */
  inputs?: RefreshInputs;
}

/** The course key an edX object is about, else the key it was asked for (the reference matches on the object's key). */
function objectCourseKey(data: EdxObject, askedFor: string): string {
  return typeof data.course_id === 'string' && data.course_id ? data.course_id : askedFor;
}

/** spec 1.4: an enrollment names its run in course_details.course_id, else in a top-level course_id. */
export function enrollmentCourseKey(data: EdxObject): string | null {
  const details = data.course_details as EdxObject | undefined;
  const key = (details && typeof details === 'object' ? details.course_id : undefined) ?? data.course_id;
  return typeof key === 'string' && key ? key : null;
}

/** What edX said for one learner, fetched but not yet written to the cache tables. */
export interface FetchedGradeData {
  userId: number;
  provider: Provider;
  tokenRefreshed: boolean;
  courseKeys: string[];
  /** The run a targeted refresh is about (its rows alone are written); null: a full refresh. */
  onlyRunId: number | null;
  /** Verified certificates (null for MITx Online: no certificate is fetched, deleted or stamped, spec 2.3 step 4 / E18). */
  certificates: CacheAnswer[] | null;
  currentGrades: CacheAnswer[];
}

/**
 * The edX half of `update_all_cached_grade_data(user, provider)`, spec 2.3 steps 1–5: token check
 * (a refreshed token is written back at once, edX may have rotated it), then certificates (edX
 * only) and current grades for the course keys of the cached enrollments. A 4xx for one key skips
 * it, so that run's cached row will be deleted (spec 3.6); a 5xx, timeout or bad answer throws.
 */
export async function fetchUserGradeData(
  db: Db,
  settings: EdxSettings,
  userId: number,
  provider: Provider,
  options: RefreshOptions = {},
): Promise<FetchedGradeData> {
  const now = options.now ?? new Date();
  const inputs = options.inputs ?? (await loadRefreshInputs(db, userId, provider));
  const { social, client, tokenRefreshed } = await openUserSession(db, settings, userId, provider, now, inputs);
  // spec 5b, targeted: the run's key is asked only when the full refresh would ask it (a cached
  // enrollment names it), so the run's rows end up as the full refresh would leave them.
  const only = options.onlyRun;
  const courseKeys = only ? inputs.courseKeys.filter((k) => k === only.courseKey) : inputs.courseKeys;
  const { certificates, currentGrades } = await fetchGradeAnswers(client, social.uid, courseKeys);
  return { userId, provider, tokenRefreshed, courseKeys, onlyRunId: only?.id ?? null, certificates, currentGrades };
}

/**
 * spec 2.3 steps 4–5, the edX half: certificates (edX only, verified ones) then current grades,
 * one call per course key. Shared by the freeze's grade refresh and the learner refresh.
 */
export async function fetchGradeAnswers(
  client: EdxClient,
  uid: string,
  courseKeys: readonly string[],
): Promise<{ certificates: CacheAnswer[] | null; currentGrades: CacheAnswer[] }> {
  let certificates: CacheAnswer[] | null = null;
  if (client.provider === 'edxorg') {
    certificates = [];
    for (const key of courseKeys) {
      const certificate = await client.getCertificate(uid, key);
      // spec 1.4: only verified certificates are ever cached.
      if (certificate && certificate.certificate_type === 'verified')
        certificates.push({ courseKey: objectCourseKey(certificate, key), data: certificate });
    }
  }
  const currentGrades: CacheAnswer[] = [];
  for (const key of courseKeys) {
    const grade = await client.getCurrentGrade(uid, key);
    if (grade) currentGrades.push({ courseKey: objectCourseKey(grade, key), data: grade });
  }
  return { certificates, currentGrades };
}

/**
 * The database half: the cache then holds exactly what edX said. Both tables are written only once
 * every edX answer is in, so a failing grade call leaves the certificate cache as it was too (the
 * reference would have rewritten it first; either way the learner is not frozen on that attempt).
 */
export async function writeUserGradeCache(db: Db, fetched: FetchedGradeData, now: Date): Promise<GradeCacheRefreshSummary> {
  const written = await writeGradeCacheMany(db, [fetched], now);
  return { provider: fetched.provider, tokenRefreshed: fetched.tokenRefreshed, courseKeys: fetched.courseKeys, ...written };
}

/** Rows stored and removed by a grade-cache write, summed over its learners. */
type GradeCacheWritten = Pick<GradeCacheRefreshSummary, 'certificates' | 'currentGrades' | 'removedCertificates' | 'removedCurrentGrades'>;

/**
 * `writeUserGradeCache` for learners fetched for one run and backend, in two statements
 * (certificates, current grades) whatever their number: the freeze job's write batches.
 */
export async function writeGradeCacheMany(db: Db, fetched: readonly FetchedGradeData[], now: Date): Promise<GradeCacheWritten> {
  const written = { certificates: 0, currentGrades: 0, removedCertificates: 0, removedCurrentGrades: 0 };
  if (fetched.length === 0) return written;
  const { provider, onlyRunId } = fetched[0];
  if (fetched.some((f) => f.provider !== provider || f.onlyRunId !== onlyRunId))
    throw new Error('writeGradeCacheMany: one backend and one refresh scope per batch');
  const withCertificates = fetched.filter((f) => f.certificates !== null);
  const certificates = await replaceCachedRowsMany(
    db,
    'dashboard_cachedcertificate',
    'certificate',
    withCertificates.map((f) => ({ userId: f.userId, answers: f.certificates! })),
    provider,
    now,
    onlyRunId,
  );
  const column = provider === 'edxorg' ? 'current_grade' : 'current_grade_mitxonline';
  const grades = await replaceCachedRowsMany(
    db,
    'dashboard_cachedcurrentgrade',
    column,
    fetched.map((f) => ({ userId: f.userId, answers: f.currentGrades })),
    provider,
    now,
    onlyRunId,
  );
  return {
    certificates: certificates.stored,
    removedCertificates: certificates.removed,
    currentGrades: grades.stored,
    removedCurrentGrades: grades.removed,
  };
}

/** `update_all_cached_grade_data(user, provider)`: fetch, then write (spec 2.3 steps 1–5). */
export async function refreshUserGradeCache(
  db: Db,
  settings: EdxSettings,
  userId: number,
  provider: Provider,
  options: RefreshOptions = {},
): Promise<GradeCacheRefreshSummary> {
  const now = options.now ?? new Date();
  return writeUserGradeCache(db, await fetchUserGradeData(db, settings, userId, provider, { now }), now);
}

/**
 * The general enrollment refresh of spec 2.3 (not part of the freeze): every returned enrollment
 * on a known run of the backend is cached, the user's other cached enrollments there are deleted.
 */
export async function refreshUserEnrollments(
  db: Db,
  settings: EdxSettings,
  userId: number,
  provider: Provider,
  options: RefreshOptions = {},
): Promise<EnrollmentRefreshSummary> {
  const now = options.now ?? new Date();
  const { client, tokenRefreshed } = await openUserSession(db, settings, userId, provider, now);
  const enrollments = await client.getEnrollments();
  const answers = enrollments.flatMap((data): CacheAnswer[] => {
    const courseKey = enrollmentCourseKey(data);
    return courseKey ? [{ courseKey, data }] : [];
  });
  const column = provider === 'edxorg' ? 'enrollment' : 'enrollment_mitxonline';
  const written = await replaceCachedRows(db, 'dashboard_cachedenrollment', column, userId, provider, answers, now);
  return {
    provider,
    tokenRefreshed,
    courseKeys: [...new Set(answers.map((a) => a.courseKey))],
    enrollments: written.stored,
    removedEnrollments: written.removed,
  };
}
