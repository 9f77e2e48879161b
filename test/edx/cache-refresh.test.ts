import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDb } from '../helpers/db.js';
import { OpsError } from '../../src/domain/errors.js';
import type { Provider } from '../../src/domain/edx/edx-settings.js';
import { refreshUserEnrollments, refreshUserGradeCache } from '../../src/domain/edx/cache-refresh.js';
import { createWorld, startSimulator, type RunningSimulator, type World } from '../../src/simulator/index.js';
import {
  enrollmentData,
  freshToken,
  insertCached,
  insertRun,
  insertSocialAuth,
  insertUser,
  rowsOf,
  settingsFor,
  unique,
} from './fixtures.js';

// spec 2.3 steps 1–5 and the general enrollment refresh, seen in the database after each call.

let db: Knex;
let world: World;
const sims = {} as Record<Provider, RunningSimulator>;
const settings = () => settingsFor({ edxorg: sims.edxorg.baseUrl, mitxonline: sims.mitxonline.baseUrl });

beforeAll(async () => {
  db = await freshDb();
  world = createWorld();
  sims.edxorg = await startSimulator({ world, provider: 'edxorg' });
  sims.mitxonline = await startSimulator({ world, provider: 'mitxonline' });
});
afterAll(async () => {
  await sims.edxorg.close();
  await sims.mitxonline.close();
});
beforeEach(() => {
  for (const sim of Object.values(sims)) {
    sim.stats.reset();
    sim.knobs.faults.clear();
    sim.knobs.unauthorizedUsers.clear();
  }
});

interface Learner {
  userId: number;
  uid: string;
  runs: Record<string, number>;
  keys: Record<string, string>;
}

/**
 * A learner with a linked account on `provider`, runs named by `runNames`, and cached enrollments
 * on the runs listed in `enrolled` (also enrolled in the simulated world unless `edxForgot`).
 */
async function learner(
  provider: Provider,
  runNames: string[],
  enrolled: string[],
  extraData?: (uid: string) => Record<string, unknown>,
): Promise<Learner> {
  const uid = unique(`${provider}-user-`);
  const userId = await insertUser(db);
  const token = `${uid}-access-token`;
  await insertSocialAuth(db, userId, provider, uid, extraData?.(uid) ?? freshToken(token, `${uid}-refresh-token`));
  world[provider].addUser({
    username: uid,
    accessToken: token,
    accessTokenExpiresAtMs: Date.now() + 3_600_000,
    refreshToken: `${uid}-refresh-token`,
  });
  const runs: Record<string, number> = {};
  const keys: Record<string, string> = {};
  for (const name of runNames) {
    keys[name] = `course-v1:MITx+${unique(name)}+1T2020`;
    runs[name] = await insertRun(db, keys[name], provider);
    world[provider].addCourse(keys[name]);
  }
  for (const name of enrolled) {
    await insertCached(db, 'dashboard_cachedenrollment', userId, runs[name], enrollmentData(keys[name], uid));
    world[provider].enroll(uid, keys[name]);
  }
  return { userId, uid, runs, keys };
}

const refreshTimes = (userId: number) => db('dashboard_usercacherefreshtime').where({ user_id: userId }).first();
const ms = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).getTime());
const socialRow = (userId: number, provider: Provider) => db('social_auth_usersocialauth').where({ user_id: userId, provider }).first();

async function opsError(promise: Promise<unknown>): Promise<OpsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpsError);
  return error as OpsError;
}

describe('refreshUserGradeCache on edX', () => {
  it('refreshes an undated token first, writes it back, and the simulator accepts the new one', async () => {
    const l = await learner('edxorg', ['A'], ['A'], (uid) => ({
      access_token: 'old-access-token-1',
      refresh_token: `${uid}-refresh-token`,
    }));
    world.edxorg.setGrade(l.uid, l.keys.A, { percent: 0.66, passed: true });
    const before = await socialRow(l.userId, 'edxorg');
    const now = new Date();

    const summary = await refreshUserGradeCache(db, settings(), l.userId, 'edxorg', { now });

    expect(summary).toMatchObject({ provider: 'edxorg', tokenRefreshed: true, courseKeys: [l.keys.A], currentGrades: 1 });
    const after = await socialRow(l.userId, 'edxorg');
    expect(after.extra_data.access_token).not.toBe('old-access-token-1');
    expect(after.extra_data).toMatchObject({
      refresh_token: `${l.uid}-refresh-token`,
      expires_in: 36_000,
      token_type: 'Bearer',
      auth_time: Math.floor(now.getTime() / 1000),
      updated_at: now.getTime() / 1000,
    });
    expect(ms(after.modified)).toBeGreaterThan(ms(before.modified)!);
    expect(world.edxorg.ownerOfAccessToken(after.extra_data.access_token, Date.now())?.username).toBe(l.uid);
    expect(
      sims.edxorg.stats.recent.filter((r) => r.endpoint !== 'token-refresh').every((r) => r.bearer === after.extra_data.access_token),
    ).toBe(true);

    // Fresh now: the next refresh leaves the token alone (spec 2.3 step 2).
    expect((await refreshUserGradeCache(db, settings(), l.userId, 'edxorg')).tokenRefreshed).toBe(false);
  });

  it('caches only verified certificates, deletes stale rows of the backend, and stamps only its own columns', async () => {
    const l = await learner('edxorg', ['A', 'B', 'C'], ['A', 'B']);
    const mitxRun = await insertRun(db, `course-v1:MITxT+${unique('M')}+1T2022`, 'mitxonline');
    world.edxorg.setCertificate(l.uid, l.keys.A, { certificateType: 'verified', status: 'downloadable' });
    world.edxorg.setCertificate(l.uid, l.keys.B, { certificateType: 'honor', status: 'downloadable' });
    world.edxorg.setGrade(l.uid, l.keys.A, { percent: 0.9, passed: true });
    world.edxorg.setGrade(l.uid, l.keys.B, { percent: 0.4, passed: false });
    await insertCached(db, 'dashboard_cachedcertificate', l.userId, l.runs.B, {
      course_id: l.keys.B,
      certificate_type: 'verified',
      status: 'downloadable',
    });
    await insertCached(db, 'dashboard_cachedcertificate', l.userId, l.runs.C, {
      course_id: l.keys.C,
      certificate_type: 'verified',
      status: 'downloadable',
    });
    await insertCached(db, 'dashboard_cachedcertificate', l.userId, mitxRun, { note: 'another backend' });
    await insertCached(db, 'dashboard_cachedcurrentgrade', l.userId, l.runs.C, { course_id: l.keys.C, percent: 0.5 });
    const enrollmentStamp = new Date('2026-01-02T03:04:05Z');
    await db('dashboard_usercacherefreshtime').insert({ user_id: l.userId, enrollment: enrollmentStamp });
    const now = new Date();

    const summary = await refreshUserGradeCache(db, settings(), l.userId, 'edxorg', { now });

    expect(summary).toMatchObject({
      tokenRefreshed: false,
      certificates: 1,
      removedCertificates: 2,
      currentGrades: 2,
      removedCurrentGrades: 1,
    });
    const certificates = await rowsOf(db, 'dashboard_cachedcertificate', l.userId);
    expect(certificates.map((r) => r.course_run_id)).toEqual([l.runs.A, mitxRun]);
    expect(certificates[0].data).toMatchObject({ course_id: l.keys.A, certificate_type: 'verified', username: l.uid });
    const grades = await rowsOf(db, 'dashboard_cachedcurrentgrade', l.userId);
    expect(grades.map((r) => [r.course_run_id, r.data.percent])).toEqual([
      [l.runs.A, 0.9],
      [l.runs.B, 0.4],
    ]);
    const times = await refreshTimes(l.userId);
    expect(ms(times.certificate)).toBe(now.getTime());
    expect(ms(times.current_grade)).toBe(now.getTime());
    expect(ms(times.enrollment)).toBe(enrollmentStamp.getTime());
    expect(times.current_grade_mitxonline).toBeNull();
    expect(sims.edxorg.stats.byEndpoint).toMatchObject({ certificate: 2, 'current-grade': 2, enrollments: 0, 'token-refresh': 0 });
  });

  it('drops the cached grade of a run edX answers 4xx for (spec 3.6)', async () => {
    const l = await learner('edxorg', ['A', 'B'], ['A', 'B']);
    world.edxorg.setGrade(l.uid, l.keys.A, { percent: 0.8, passed: true });
    world.edxorg.unenroll(l.uid, l.keys.B); // the grades API now answers 404 for B
    await insertCached(db, 'dashboard_cachedcurrentgrade', l.userId, l.runs.B, { course_id: l.keys.B, percent: 0.7 });

    const summary = await refreshUserGradeCache(db, settings(), l.userId, 'edxorg');

    expect(summary).toMatchObject({ currentGrades: 1, removedCurrentGrades: 1 });
    expect((await rowsOf(db, 'dashboard_cachedcurrentgrade', l.userId)).map((r) => r.course_run_id)).toEqual([l.runs.A]);
    expect(sims.edxorg.stats.byStatus['404']).toBeGreaterThanOrEqual(1);
  });

  it("asks edX nothing for a learner without cached enrollments and clears that backend's cached grades (spec E10)", async () => {
    const l = await learner('edxorg', ['A'], []);
    await insertCached(db, 'dashboard_cachedcurrentgrade', l.userId, l.runs.A, { course_id: l.keys.A, percent: 0.7 });
    const summary = await refreshUserGradeCache(db, settings(), l.userId, 'edxorg');
    expect(summary).toMatchObject({ courseKeys: [], removedCurrentGrades: 1 });
    expect(sims.edxorg.stats.requests).toBe(0);
  });

  it('writes nothing when edX answers 5xx, and says edx-error', async () => {
    const l = await learner('edxorg', ['A'], ['A']);
    await insertCached(db, 'dashboard_cachedcurrentgrade', l.userId, l.runs.A, { course_id: l.keys.A, percent: 0.7 });
    sims.edxorg.knobs.faults.set(l.uid, 500);
    const error = await opsError(refreshUserGradeCache(db, settings(), l.userId, 'edxorg'));
    expect(error.code).toBe('edx-error');
    expect(error.message).not.toContain(`${l.uid}-access-token`);
    expect((await rowsOf(db, 'dashboard_cachedcurrentgrade', l.userId)).map((r) => r.data.percent)).toEqual([0.7]);
    expect(await refreshTimes(l.userId)).toBeUndefined();
  });
});

describe('refreshUserGradeCache on an old social-auth row', () => {
  it('reads extra_data stored as a JSON string and writes the refreshed token back as an object', async () => {
    const l = await learner('edxorg', ['A'], ['A'], (uid) => ({ access_token: 'legacy-access', refresh_token: `${uid}-refresh-token` }));
    await db('social_auth_usersocialauth')
      .where({ user_id: l.userId })
      .update({ extra_data: JSON.stringify(JSON.stringify({ access_token: 'legacy-access', refresh_token: `${l.uid}-refresh-token` })) });
    expect((await refreshUserGradeCache(db, settings(), l.userId, 'edxorg')).tokenRefreshed).toBe(true);
    const row = await socialRow(l.userId, 'edxorg');
    expect(row.extra_data).toMatchObject({ refresh_token: `${l.uid}-refresh-token`, expires_in: 36_000 });
    expect(row.extra_data.access_token).not.toBe('legacy-access');
  });
});

describe('refreshUserGradeCache on MITx Online', () => {
  it('makes no certificate call, leaves certificates alone, refreshes the undated token and stamps current_grade_mitxonline', async () => {
    // spec 1.2: MITx Online rows carry no updated_at, so the token is refreshed on every use (E13).
    const l = await learner('mitxonline', ['A'], ['A'], (uid) => ({
      access_token: `${uid}-access-token`,
      refresh_token: `${uid}-refresh-token`,
      expires_in: 36_000,
      auth_time: Math.floor(Date.now() / 1000),
    }));
    world.mitxonline.setGrade(l.uid, l.keys.A, { percent: 0.55, passed: true });
    await insertCached(db, 'dashboard_cachedcertificate', l.userId, l.runs.A, { certificate_type: 'verified', status: 'downloadable' });
    const now = new Date();

    const summary = await refreshUserGradeCache(db, settings(), l.userId, 'mitxonline', { now });

    expect(summary).toMatchObject({
      provider: 'mitxonline',
      tokenRefreshed: true,
      certificates: 0,
      removedCertificates: 0,
      currentGrades: 1,
    });
    expect(sims.mitxonline.stats.byEndpoint).toMatchObject({ certificate: 0, 'token-refresh': 1, 'current-grade': 1 });
    expect(await rowsOf(db, 'dashboard_cachedcertificate', l.userId)).toHaveLength(1);
    const times = await refreshTimes(l.userId);
    expect(ms(times.current_grade_mitxonline)).toBe(now.getTime());
    expect(times.certificate).toBeNull();
    expect(times.current_grade).toBeNull();
    expect((await socialRow(l.userId, 'mitxonline')).extra_data).not.toHaveProperty('updated_at');
  });
});

describe('refreshUserGradeCache refusals', () => {
  it('says no-social-auth for a learner who never linked the backend', async () => {
    const userId = await insertUser(db);
    expect((await opsError(refreshUserGradeCache(db, settings(), userId, 'edxorg'))).code).toBe('no-social-auth');
  });

  it('says invalid-credentials for a revoked grant and prints no token or client secret', async () => {
    const l = await learner('mitxonline', ['A'], ['A'], () => ({
      access_token: 'revoked-learner-access',
      refresh_token: 'revoked-learner-refresh',
    }));
    world.mitxonline.addUser({ username: l.uid, refreshToken: 'revoked-learner-refresh', revoked: true });
    const error = await opsError(refreshUserGradeCache(db, settings(), l.userId, 'mitxonline'));
    expect(error.code).toBe('invalid-credentials');
    const text = `${error.message} ${error.hint}`;
    for (const secret of ['revoked-learner-access', 'revoked-learner-refresh', 'mitx-client-secret-value'])
      expect(text).not.toContain(secret);
  });

  it('names MITXONLINE_CALLBACK_URL when MITx Online has no base URL', async () => {
    const l = await learner('mitxonline', ['A'], ['A']);
    const error = await opsError(refreshUserGradeCache(db, settingsFor({ edxorg: sims.edxorg.baseUrl }), l.userId, 'mitxonline'));
    expect(error.hint).toContain('MITXONLINE_CALLBACK_URL');
  });
});

describe('refreshUserEnrollments', () => {
  it('caches returned enrollments on known runs of the backend, drops the others, and stamps enrollment', async () => {
    const l = await learner('edxorg', ['A', 'B'], ['B']);
    world.edxorg.unenroll(l.uid, l.keys.B);
    world.edxorg.enroll(l.uid, l.keys.A, { mode: 'audit' });
    world.edxorg.enroll(l.uid, 'course-v1:MITx+NotInCatalogue+1T2020');
    const now = new Date();

    const summary = await refreshUserEnrollments(db, settings(), l.userId, 'edxorg', { now });

    expect(summary).toMatchObject({ enrollments: 1, removedEnrollments: 1 });
    const rows = await rowsOf(db, 'dashboard_cachedenrollment', l.userId);
    expect(rows.map((r) => [r.course_run_id, r.data.mode])).toEqual([[l.runs.A, 'audit']]);
    expect(ms((await refreshTimes(l.userId)).enrollment)).toBe(now.getTime());
  });

  it('turns a 401 on the enrollment list into invalid-credentials (spec 2.3)', async () => {
    const l = await learner('edxorg', ['A'], ['A']);
    sims.edxorg.knobs.unauthorizedUsers.add(l.uid);
    expect((await opsError(refreshUserEnrollments(db, settings(), l.userId, 'edxorg'))).code).toBe('invalid-credentials');
    expect(await rowsOf(db, 'dashboard_cachedenrollment', l.userId)).toHaveLength(1);
  });
});
