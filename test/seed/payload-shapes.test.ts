import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededDb } from './seeded-db.js';

// The cached `data` must look like what edX sends (test/fixtures/edx-samples), since the refresh
// code, the simulator and the diagnosis read the same keys (spec 1.4, 3.2–3.4).

type Json = Record<string, unknown>;
const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/edx-samples/${name}.json`, import.meta.url), 'utf8')) as Json[];
const keys = (o: object) => Object.keys(o).sort();

let db: Knex;

beforeAll(async () => {
  ({ db } = await seededDb());
});

/** Cached rows of one table with the run's key and the learner's uid on that run's backend. */
async function cached(table: string) {
  return db(`${table} as c`)
    .join('courses_courserun as r', 'r.id', 'c.course_run_id')
    .join('social_auth_usersocialauth as s', function () {
      this.on('s.user_id', 'c.user_id').andOn('s.provider', 'r.courseware_backend');
    })
    .select('c.data', 'r.edx_course_key as key', 'r.courseware_backend as backend', 's.uid');
}

describe('cached edX payloads', () => {
  it('enrollments have the key sets of the enrollment API sample, for the run and the remote user', async () => {
    const [ref] = sample('user_enrollments');
    const details = ref.course_details as Json;
    const rows = await cached('dashboard_cachedenrollment');
    expect(rows.length).toBe(
      await db('dashboard_cachedenrollment')
        .count('* as n')
        .then((r) => Number(r[0].n)),
    );
    for (const { data, key, uid } of rows) {
      expect(keys(data)).toEqual(keys(ref));
      expect(keys(data.course_details)).toEqual(keys(details));
      for (const mode of data.course_details.course_modes) expect(keys(mode)).toEqual(keys((details.course_modes as Json[])[0]));
      expect(data.course_details.course_id).toBe(key);
      expect(data.user).toBe(uid);
      expect(['verified', 'audit', 'honor']).toContain(data.mode);
    }
  });

  it('current grades have the key set of the grades API sample, percent as a 0–1 fraction', async () => {
    const [ref] = sample('current_grades');
    for (const { data, key, uid } of await cached('dashboard_cachedcurrentgrade')) {
      expect(keys(data)).toEqual(keys(ref));
      expect(data).toMatchObject({ course_id: key, username: uid });
      expect(data.percent).toBeGreaterThanOrEqual(0);
      expect(data.percent).toBeLessThanOrEqual(1);
      expect(typeof data.passed).toBe('boolean');
    }
  });

  it('certificates have the sample keys plus the created/modified/is_passing of spec 1.4; verified, edX only', async () => {
    const [ref] = sample('certificates');
    const rows = await cached('dashboard_cachedcertificate');
    expect(rows.length).toBeGreaterThan(0);
    for (const { data, key, uid, backend } of rows) {
      expect(keys(data)).toEqual(keys({ ...ref, created: 0, modified: 0, is_passing: 0 }));
      expect(data).toMatchObject({ course_id: key, username: uid, certificate_type: 'verified' });
      expect(backend).toBe('edxorg'); // spec 3.3: certificates are fetched from edX only
      expect(data.status).toBe(data.is_passing ? 'downloadable' : 'notpassing');
    }
    expect(rows.some((r) => r.data.status === 'downloadable')).toBe(true);
  });

  it('social-auth extra_data has the spec 1.2 keys; updated_at only for edxorg', async () => {
    const base = ['access_token', 'auth_time', 'expires_in', 'refresh_token', 'scope', 'token_type'];
    for (const { provider, extra_data: data } of await db('social_auth_usersocialauth').select('provider', 'extra_data')) {
      expect(keys(data)).toEqual(provider === 'edxorg' ? [...base, 'updated_at'].sort() : base);
      expect(data).toMatchObject({ expires_in: 36000, token_type: 'Bearer', scope: 'read write' });
      expect(Number.isInteger(data.auth_time)).toBe(true);
    }
  });
});
