import type { Knex } from 'knex';
import type { EdxSettings, Provider } from '../../src/domain/edx/edx-settings.js';

// The few MicroMasters rows the edX tests need, inserted with every NOT NULL column (spec 0).

let counter = 0;
/** A name unique within the test file, so tests sharing one database never collide. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

export async function insertUser(db: Knex, username = unique('learner')): Promise<number> {
  const [{ id }] = await db('auth_user')
    .insert({
      password: '!',
      is_superuser: false,
      username,
      first_name: '',
      last_name: '',
      email: `${username}@example.com`,
      is_staff: false,
      is_active: true,
      date_joined: new Date(),
    })
    .returning('id');
  return id;
}

export async function insertRun(db: Knex, courseKey: string, backend: Provider): Promise<number> {
  const [{ id }] = await db('courses_courserun')
    .insert({
      title: courseKey,
      edx_course_key: courseKey,
      courseware_backend: backend,
      is_discontinued: false,
      start_date: new Date('2020-01-10T00:00:00Z'),
      end_date: new Date('2020-05-10T00:00:00Z'),
    })
    .returning('id');
  return id;
}

export async function insertSocialAuth(
  db: Knex,
  userId: number,
  provider: Provider,
  uid: string,
  extraData: Record<string, unknown>,
): Promise<void> {
  await db('social_auth_usersocialauth').insert({
    user_id: userId,
    provider,
    uid,
    extra_data: JSON.stringify(extraData),
    created: new Date(),
    modified: new Date(),
  });
}

export type CacheTable = 'dashboard_cachedenrollment' | 'dashboard_cachedcertificate' | 'dashboard_cachedcurrentgrade';

export async function insertCached(
  db: Knex,
  table: CacheTable,
  userId: number,
  courseRunId: number,
  data: Record<string, unknown>,
): Promise<void> {
  await db(table).insert({ user_id: userId, course_run_id: courseRunId, data: JSON.stringify(data) });
}

export function enrollmentData(courseKey: string, user: string, mode = 'verified'): Record<string, unknown> {
  return { course_details: { course_id: courseKey }, created: '2020-01-05T00:00:00Z', is_active: true, mode, user };
}

/** extra_data of a token stored just now, valid for a day (no refresh needed). */
export function freshToken(accessToken: string, refreshToken: string, nowMs = Date.now()): Record<string, unknown> {
  return {
    access_token: accessToken,
    refresh_token: refreshToken,
    expires_in: 86_400,
    token_type: 'Bearer',
    scope: 'read write',
    auth_time: Math.floor(nowMs / 1000),
    updated_at: nowMs / 1000,
  };
}

export function settingsFor(urls: Partial<Record<Provider, string>>, overrides: Partial<EdxSettings> = {}): EdxSettings {
  return {
    baseUrls: urls,
    clients: {
      edxorg: { id: 'edx-client-id', secret: 'edx-client-secret-value' },
      mitxonline: { id: 'mitx-client-id', secret: 'mitx-client-secret-value' },
    },
    timeoutMs: 2_000,
    retries: 0,
    ...overrides,
  };
}

export async function rowsOf(
  db: Knex,
  table: CacheTable,
  userId: number,
): Promise<Array<{ course_run_id: number; data: Record<string, unknown> }>> {
  return db(table).where({ user_id: userId }).orderBy('course_run_id').select('course_run_id', 'data');
}
