import type { Knex } from 'knex';
import { rawRows } from '../domain/db.js';
import type { Provider } from '../domain/edx/edx-settings.js';
import { createWorld, type World } from './world.js';

// Builds the simulated edX / MITx Online from what the seed wrote: learners and tokens from
// social_auth_usersocialauth, and the cached enrollments, certificates and current grades as
// "what edX currently says", plus what the demo seed left on edX only (loadEdxOnlyRecords).
// Tables are read in id-ordered batches (keyset pagination), so a 100k-learner database loads
// with a few hundred queries and bounded memory per batch.

export interface LoadWorldOptions {
  batchSize?: number;
  /** Fill this world instead of a new one. */
  world?: World;
}

const isProvider = (value: string): value is Provider => value === 'edxorg' || value === 'mitxonline';
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const str = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);

/** ISO-8601 without milliseconds, as edX writes dates. */
function edxDate(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value as string | number);
  return Number.isNaN(date.getTime()) ? null : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function* batches<T extends { id: number | string }>(db: Knex, sql: string, batchSize: number): AsyncGenerator<T[]> {
  let after = 0;
  for (;;) {
    const rows = rawRows<T>(await db.raw(`${sql} WHERE t.id > ? ORDER BY t.id LIMIT ?`, [after, batchSize]));
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    after = Number(rows[rows.length - 1].id);
  }
}

interface SocialRow {
  id: number;
  user_id: number;
  provider: string;
  uid: string;
  extra_data: unknown;
  email: string | null;
}
interface CacheRow {
  id: number;
  user_id: number;
  course_run_id: number;
}

export async function loadWorldFromDatabase(db: Knex, options: LoadWorldOptions = {}): Promise<World> {
  const world = options.world ?? createWorld();
  const batchSize = options.batchSize ?? 5000;

  const runs = new Map<number, { key: string; provider: Provider }>();
  const runRows = await db('courses_courserun').whereNotNull('edx_course_key').select<
    Array<{
      id: number;
      edx_course_key: string;
      courseware_backend: string;
      start_date: unknown;
      end_date: unknown;
      enrollment_start: unknown;
      enrollment_end: unknown;
    }>
  >('id', 'edx_course_key', 'courseware_backend', 'start_date', 'end_date', 'enrollment_start', 'enrollment_end');
  for (const run of runRows) {
    if (!isProvider(run.courseware_backend)) continue;
    runs.set(run.id, { key: run.edx_course_key, provider: run.courseware_backend });
    world[run.courseware_backend].addCourse(run.edx_course_key, {
      courseStart: edxDate(run.start_date),
      courseEnd: edxDate(run.end_date),
      enrollmentStart: edxDate(run.enrollment_start),
      enrollmentEnd: edxDate(run.enrollment_end),
    });
  }

  // user id → remote username, per provider: cache rows are keyed by MicroMasters user id.
  const uids: Record<Provider, Map<number, string>> = { edxorg: new Map(), mitxonline: new Map() };
  const socialSql = `SELECT t.id, t.user_id, t.provider, t.uid, t.extra_data, u.email
                       FROM social_auth_usersocialauth t JOIN auth_user u ON u.id = t.user_id`;
  for await (const rows of batches<SocialRow>(db, socialSql, batchSize)) {
    for (const row of rows) {
      if (!isProvider(row.provider)) continue;
      const extra = (typeof row.extra_data === 'object' && row.extra_data !== null ? row.extra_data : {}) as Record<string, unknown>;
      const refreshToken = typeof extra.refresh_token === 'string' && extra.refresh_token ? extra.refresh_token : null;
      // A token is valid until (updated_at, else auth_time) + expires_in; without timestamps it
      // counts as expired, so the client has to refresh first (spec 2.3 step 2 does exactly that).
      const issuedAt = num(extra.updated_at) ?? num(extra.auth_time);
      const expiresIn = num(extra.expires_in);
      uids[row.provider].set(row.user_id, row.uid);
      world[row.provider].addUser({
        username: row.uid,
        email: row.email ?? undefined,
        accessToken: typeof extra.access_token === 'string' && extra.access_token ? extra.access_token : undefined,
        accessTokenExpiresAtMs: issuedAt !== null && expiresIn !== null ? (issuedAt + expiresIn) * 1000 : 0,
        refreshToken,
        // The seed's convention for a learner who revoked the grant on edX.
        revoked: refreshToken?.startsWith('revoked-') ?? false,
      });
    }
  }

  const owner = (row: CacheRow) => {
    const run = runs.get(row.course_run_id);
    const uid = run ? uids[run.provider].get(row.user_id) : undefined;
    return run && uid ? { run, uid } : null;
  };

  const enrollmentSql = `SELECT t.id, t.user_id, t.course_run_id, t.data->>'mode' AS mode, t.data->'is_active' AS is_active,
                                t.data->>'created' AS created FROM dashboard_cachedenrollment t`;
  for await (const rows of batches<CacheRow & { mode: string | null; is_active: unknown; created: string | null }>(
    db,
    enrollmentSql,
    batchSize,
  )) {
    for (const row of rows) {
      const found = owner(row);
      if (!found) continue;
      world[found.run.provider].enroll(found.uid, found.run.key, {
        mode: str(row.mode, 'audit'),
        isActive: row.is_active !== false,
        created: str(row.created, '2020-01-01T00:00:00Z'),
      });
    }
  }

  const certificateSql = `SELECT t.id, t.user_id, t.course_run_id, t.data->>'certificate_type' AS certificate_type,
                                 t.data->>'status' AS status, t.data->>'grade' AS grade, t.data->>'download_url' AS download_url,
                                 t.data->>'created' AS created, t.data->>'modified' AS modified, t.data->'is_passing' AS is_passing
                            FROM dashboard_cachedcertificate t`;
  type CertificateRow = CacheRow &
    Record<'certificate_type' | 'status' | 'grade' | 'download_url' | 'created' | 'modified', string | null> & { is_passing: unknown };
  for await (const rows of batches<CertificateRow>(db, certificateSql, batchSize)) {
    for (const row of rows) {
      const found = owner(row);
      if (!found) continue;
      world[found.run.provider].setCertificate(found.uid, found.run.key, {
        certificateType: str(row.certificate_type, 'verified'),
        status: str(row.status, 'downloadable'),
        grade: str(row.grade, ''),
        downloadUrl: str(row.download_url, ''),
        created: str(row.created, '2020-06-01T00:00:00Z'),
        modified: str(row.modified ?? row.created, '2020-06-01T00:00:00Z'),
        isPassing: typeof row.is_passing === 'boolean' ? row.is_passing : row.status === 'downloadable',
      });
    }
  }

  // percent and passed come back as parsed jsonb, so odd values (spec E12) survive as they are.
  const gradeSql = `SELECT t.id, t.user_id, t.course_run_id, t.data->'percent' AS percent, t.data->'passed' AS passed,
                           t.data->>'letter_grade' AS letter_grade FROM dashboard_cachedcurrentgrade t`;
  for await (const rows of batches<CacheRow & { percent: unknown; passed: unknown; letter_grade: string | null }>(
    db,
    gradeSql,
    batchSize,
  )) {
    for (const row of rows) {
      const found = owner(row);
      if (!found) continue;
      world[found.run.provider].setGrade(found.uid, found.run.key, {
        percent: row.percent,
        passed: row.passed,
        letterGrade: row.letter_grade,
      });
    }
  }
  await loadEdxOnlyRecords(db, world);
  return world;
}

interface EdxOnlyDetail {
  edxOnly?: Array<{
    provider?: string;
    uid?: string;
    courseKey?: string;
    enrollment?: Record<string, unknown>;
    certificate?: Record<string, unknown> | null;
    currentGrade?: Record<string, unknown> | null;
  }>;
}

/**
 * What the demo seed left on edX only (a learner enrolled after her last enrollment refresh, spec
 * E10): no MicroMasters table holds it, so the seed's audit row carries it. A real MicroMasters
 * database has no such row and gets nothing from here.
 */
async function loadEdxOnlyRecords(db: Knex, world: World): Promise<void> {
  const [exists] = rawRows<{ t: string | null }>(await db.raw(`SELECT to_regclass('gradeops_audit_log')::text AS t`));
  if (!exists?.t) return;
  const rows = await db('gradeops_audit_log').where('action', 'seed-demo').orderBy('id').select('detail');
  for (const { detail } of rows as Array<{ detail: EdxOnlyDetail | null }>) {
    for (const record of detail?.edxOnly ?? []) {
      const { provider, uid, courseKey, enrollment, certificate, currentGrade } = record;
      if (!provider || !isProvider(provider) || !uid || !courseKey || !enrollment) continue;
      const sim = world[provider];
      if (!sim.users.has(uid)) continue;
      sim.enroll(uid, courseKey, {
        mode: str(enrollment.mode, 'audit'),
        isActive: enrollment.is_active !== false,
        created: str(enrollment.created, '2020-01-01T00:00:00Z'),
      });
      if (certificate) {
        sim.setCertificate(uid, courseKey, {
          certificateType: str(certificate.certificate_type, 'verified'),
          status: str(certificate.status, 'downloadable'),
          grade: str(certificate.grade, ''),
          downloadUrl: str(certificate.download_url, ''),
          created: str(certificate.created, '2020-06-01T00:00:00Z'),
          modified: str(certificate.modified ?? certificate.created, '2020-06-01T00:00:00Z'),
          isPassing: typeof certificate.is_passing === 'boolean' ? certificate.is_passing : certificate.status === 'downloadable',
        });
      }
      if (currentGrade) {
        sim.setGrade(uid, courseKey, {
          percent: currentGrade.percent,
          passed: currentGrade.passed,
          letterGrade: typeof currentGrade.letter_grade === 'string' ? currentGrade.letter_grade : null,
        });
      }
    }
  }
}
