import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDb } from '../helpers/db.js';
import { loadWorldFromDatabase, startEmbeddedSimulators } from '../../src/simulator/index.js';
import { enrollmentData, freshToken, insertCached, insertRun, insertSocialAuth, insertUser } from '../edx/fixtures.js';

// The embedded demo's edX is built from the seeded database: what the cache says is what edX says,
// and the stored tokens behave as their timestamps say.

let db: Knex;
const EDX_KEY = 'course-v1:MITx+14.73x+1T2020';
const MITX_KEY = 'course-v1:MITxT+14.100x+3T2022';

beforeAll(async () => {
  db = await freshDb();
  const edxRun = await insertRun(db, EDX_KEY, 'edxorg');
  const mitxRun = await insertRun(db, MITX_KEY, 'mitxonline');
  const ann = await insertUser(db, 'ann');
  await insertSocialAuth(db, ann, 'edxorg', 'ann-edx', freshToken('ann-edx-token', 'ann-edx-refresh'));
  // MITx Online rows carry no updated_at (spec 1.2); auth_time alone dates the token.
  await insertSocialAuth(db, ann, 'mitxonline', 'ann-mitx', {
    access_token: 'ann-mitx-token',
    refresh_token: 'ann-mitx-refresh',
    expires_in: 36000,
    auth_time: Math.floor(Date.now() / 1000),
  });
  await insertCached(db, 'dashboard_cachedenrollment', ann, edxRun, enrollmentData(EDX_KEY, 'ann-edx', 'verified'));
  await insertCached(db, 'dashboard_cachedcertificate', ann, edxRun, {
    username: 'ann-edx',
    course_id: EDX_KEY,
    certificate_type: 'verified',
    status: 'downloadable',
    download_url: 'https://x/c.pdf',
    grade: '0.91',
    created: '2020-06-01T00:00:00Z',
    modified: '2020-06-02T00:00:00Z',
    is_passing: true,
  });
  await insertCached(db, 'dashboard_cachedcurrentgrade', ann, edxRun, {
    course_id: EDX_KEY,
    username: 'ann-edx',
    email: 'ann@example.com',
    passed: true,
    percent: 0.91,
    letter_grade: 'Pass',
  });
  await insertCached(db, 'dashboard_cachedenrollment', ann, mitxRun, enrollmentData(MITX_KEY, 'ann-mitx', 'audit'));
  await insertCached(db, 'dashboard_cachedcurrentgrade', ann, mitxRun, {
    course_id: MITX_KEY,
    username: 'ann-mitx',
    email: 'ann@example.com',
    passed: null,
    percent: '',
    letter_grade: null,
  });
  const old = await insertUser(db, 'old');
  await insertSocialAuth(db, old, 'edxorg', 'old-edx', { access_token: 'old-edx-token', refresh_token: 'old-edx-refresh' });
  const gone = await insertUser(db, 'gone');
  await insertSocialAuth(db, gone, 'edxorg', 'gone-edx', freshToken('gone-edx-token', 'revoked-gone-edx'));
});

describe('loadWorldFromDatabase', () => {
  it('puts each cached row on its backend under the remote username', async () => {
    const world = await loadWorldFromDatabase(db, { batchSize: 2 });
    expect(world.edxorg.enrollments.get('ann-edx')?.get(EDX_KEY)).toMatchObject({ mode: 'verified', isActive: true });
    expect(world.edxorg.certificates.get('ann-edx')?.get(EDX_KEY)).toMatchObject({
      certificateType: 'verified',
      grade: '0.91',
      isPassing: true,
    });
    expect(world.edxorg.grades.get('ann-edx')?.get(EDX_KEY)).toMatchObject({ percent: 0.91, passed: true });
    expect(world.mitxonline.enrollments.get('ann-mitx')?.get(MITX_KEY)).toMatchObject({ mode: 'audit' });
    // Odd values survive so spec E12 can be demonstrated.
    expect(world.mitxonline.grades.get('ann-mitx')?.get(MITX_KEY)).toMatchObject({ percent: '', passed: null });
    expect(world.edxorg.enrollments.has('ann-mitx')).toBe(false);
    expect(world.edxorg.users.size).toBe(3);
  });

  it('makes tokens valid until their timestamps say, treats undated ones as expired, and marks revoked- grants', async () => {
    const world = await loadWorldFromDatabase(db);
    const now = Date.now();
    expect(world.edxorg.ownerOfAccessToken('ann-edx-token', now)?.username).toBe('ann-edx');
    expect(world.mitxonline.ownerOfAccessToken('ann-mitx-token', now)?.username).toBe('ann-mitx');
    expect(world.edxorg.ownerOfAccessToken('old-edx-token', now)).toBeNull();
    expect(world.edxorg.ownerOfRefreshToken('old-edx-refresh')?.username).toBe('old-edx');
    expect(world.edxorg.users.get('gone-edx')?.revoked).toBe(true);
    expect(world.edxorg.users.get('ann-edx')?.revoked).toBe(false);
  });
});

describe('what the demo seed left on edX only (spec E10)', () => {
  it('enrolls the learners its audit row names, and skips a record for an unknown account', async () => {
    const key = 'course-v1:MITx+14.100x+2T2021';
    await insertRun(db, key, 'edxorg');
    await db('gradeops_audit_log').insert({
      operator: 'test',
      action: 'seed-demo',
      detail: JSON.stringify({
        edxOnly: [
          {
            provider: 'edxorg',
            uid: 'ann-edx',
            courseKey: key,
            enrollment: enrollmentData(key, 'ann-edx', 'honor'),
            certificate: null,
            currentGrade: { course_id: key, username: 'ann-edx', passed: false, percent: 0.4, letter_grade: null },
          },
          { provider: 'edxorg', uid: 'nobody-edx', courseKey: key, enrollment: enrollmentData(key, 'nobody-edx'), currentGrade: null },
        ],
      }),
    });
    const world = await loadWorldFromDatabase(db);
    expect(world.edxorg.enrollments.get('ann-edx')?.get(key)).toMatchObject({ mode: 'honor' });
    expect(world.edxorg.enrollments.get('ann-edx')?.get(EDX_KEY)).toMatchObject({ mode: 'verified' });
    expect(world.edxorg.grades.get('ann-edx')?.get(key)).toMatchObject({ percent: 0.4, passed: false });
    expect(world.edxorg.certificates.get('ann-edx')?.has(key)).toBe(false);
    expect(world.edxorg.users.has('nobody-edx')).toBe(false);
    expect(world.edxorg.enrollments.has('nobody-edx')).toBe(false);
  });
});

describe('startEmbeddedSimulators', () => {
  const sims: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const s of sims) await s.close();
  });

  it('serves each backend on its own listener from the database', async () => {
    const embedded = await startEmbeddedSimulators(db);
    sims.push(embedded);
    expect(embedded.urls.edxorg).not.toBe(embedded.urls.mitxonline);
    const edx = await fetch(new URL(`/api/grades/v1/courses/${EDX_KEY}/?username=ann-edx`, embedded.urls.edxorg), {
      headers: { Authorization: 'Bearer ann-edx-token' },
    });
    expect(await edx.json()).toEqual([
      { course_id: EDX_KEY, email: 'ann@example.com', passed: true, percent: 0.91, letter_grade: 'Pass', username: 'ann-edx' },
    ]);
    const mitx = await fetch(new URL('/api/enrollment/v1/enrollment', embedded.urls.mitxonline), {
      headers: { Authorization: 'Bearer ann-mitx-token' },
    });
    const list = await mitx.json();
    expect(list.map((e: { course_details: { course_id: string } }) => e.course_details.course_id)).toEqual([MITX_KEY]);
    // The edX token means nothing to MITx Online.
    const cross = await fetch(new URL('/api/enrollment/v1/enrollment', embedded.urls.mitxonline), {
      headers: { Authorization: 'Bearer ann-edx-token' },
    });
    expect(cross.status).toBe(401);
  });
});
