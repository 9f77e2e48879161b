import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { refreshLearnerEdxData } from '../../src/domain/edx/learner-refresh.js';
import { createTestWorld, daysFromNow, opsErrorOf, type TestLearner, type TestRun, type TestWorld } from '../helpers/world.js';

// Issue 11: the learner refresh of spec 2.3's general path (enrollments, then certificates on
// edX, then current grades; the token first when due), seen in the database and in what it
// reports row by row, with its audit row and the exam-profile side effect of spec 2.8.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

async function cached(learner: TestLearner, run: TestRun) {
  const where = { user_id: learner.id, course_run_id: run.id };
  const [enrollment, certificate, grade] = await Promise.all([
    w.db('dashboard_cachedenrollment').where(where).first('data'),
    w.db('dashboard_cachedcertificate').where(where).first('data'),
    w.db('dashboard_cachedcurrentgrade').where(where).first('data'),
  ]);
  return { enrollment: enrollment?.data ?? null, certificate: certificate?.data ?? null, grade: grade?.data ?? null };
}

async function refreshAudits(userId: number) {
  return w.db('gradeops_audit_log').where({ user_id: userId, action: 'refresh-edx-data' }).orderBy('id');
}

describe('refreshLearnerEdxData', () => {
  it('spec E10: caches the enrollment edX has and then the grade for it, reporting both as added', async () => {
    const run = await w.addRun({ exam: true });
    const l = await w.addLearner(run, { grade: { percent: 0.81, passed: true }, cache: { enrollment: false, grade: false } });
    expect(await cached(l, run)).toEqual({ enrollment: null, certificate: null, grade: null });

    const r = await refreshLearnerEdxData(w.ctx(), l.username, run.key);

    expect(r.username).toBe(l.username);
    expect(r.backends).toEqual(['edxorg']);
    expect(r.changes).toEqual([
      {
        table: 'dashboard_cachedenrollment',
        courseKey: run.key,
        change: 'added',
        before: null,
        after: { mode: 'verified', isActive: true },
      },
      { table: 'dashboard_cachedcurrentgrade', courseKey: run.key, change: 'added', before: null, after: { percent: 0.81, passed: true } },
    ]);
    const rows = await cached(l, run);
    expect(rows.enrollment).toMatchObject({ mode: 'verified', course_details: { course_id: run.key } });
    expect(rows.grade).toMatchObject({ percent: 0.81, passed: true, course_id: run.key });
    const times = await w.db('dashboard_usercacherefreshtime').where('user_id', l.id).first();
    for (const column of ['enrollment', 'certificate', 'current_grade']) expect(times[column], column).not.toBeNull();
    expect(times.enrollment_mitxonline).toBeNull();
  });

  it('asks edX in the spec order: enrollments, then the certificate, then the current grade', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, {
      certificate: { type: 'verified', status: 'downloadable' },
      cache: { enrollment: false, grade: false, certificate: false },
    });
    await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    expect(w.sims.edxorg.stats.recent.map((q) => q.endpoint)).toEqual(['enrollments', 'certificate', 'current-grade']);
    expect((await cached(l, run)).certificate).toMatchObject({ certificate_type: 'verified', status: 'downloadable' });
  });

  it('refreshes a due token first and never returns or audits a token', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { token: 'needs-refresh', cache: { enrollment: false, grade: false } });
    const r = await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    expect(w.sims.edxorg.stats.recent.map((q) => q.endpoint)).toEqual(['token-refresh', 'enrollments', 'certificate', 'current-grade']);
    expect(r.tokensRefreshed).toEqual(['edxorg']);
    const stored = (await w.db('social_auth_usersocialauth').where('user_id', l.id).first()).extra_data;
    expect(stored.access_token).not.toBe(l.accessToken);
    const text = JSON.stringify([r, await refreshAudits(l.id)]);
    for (const secret of [l.accessToken, l.refreshToken, stored.access_token, stored.refresh_token]) expect(text).not.toContain(secret);
  });

  it('reports changed rows with old and new mode, percent, passed and certificate status, and leaves equal rows out', async () => {
    const run = await w.addRun();
    const same = await w.addRun();
    const l = await w.addLearner(run, {
      enrollment: 'audit',
      grade: { percent: 0.55, passed: false },
      certificate: { type: 'verified', status: 'notpassing' },
    });
    await w.enrollLearner(l, same, { grade: { percent: 0.7, passed: true } });
    // edX now says otherwise for the first run; the second is unchanged.
    w.world.edxorg.enroll(l.uid, run.key, { mode: 'verified' });
    w.world.edxorg.setGrade(l.uid, run.key, { percent: 0.83, passed: true });
    w.world.edxorg.setCertificate(l.uid, run.key, { certificateType: 'verified', status: 'downloadable' });

    const r = await refreshLearnerEdxData(w.ctx(), l.username, run.key);

    expect(r.changes).toEqual([
      {
        table: 'dashboard_cachedenrollment',
        courseKey: run.key,
        change: 'changed',
        before: { mode: 'audit', isActive: true },
        after: { mode: 'verified', isActive: true },
      },
      {
        table: 'dashboard_cachedcertificate',
        courseKey: run.key,
        change: 'changed',
        before: { certificateType: 'verified', status: 'notpassing' },
        after: { certificateType: 'verified', status: 'downloadable' },
      },
      {
        table: 'dashboard_cachedcurrentgrade',
        courseKey: run.key,
        change: 'changed',
        before: { percent: 0.55, passed: false },
        after: { percent: 0.83, passed: true },
      },
    ]);
    expect((await cached(l, same)).grade).toMatchObject({ percent: 0.7 });
  });

  it('removes the enrollment edX no longer lists, and the grade and certificate that hung on it', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { certificate: { type: 'verified', status: 'downloadable' } });
    w.world.edxorg.unenroll(l.uid, run.key);
    const r = await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    expect(r.changes.map((c) => [c.table, c.change, c.after])).toEqual([
      ['dashboard_cachedenrollment', 'removed', null],
      ['dashboard_cachedcertificate', 'removed', null],
      ['dashboard_cachedcurrentgrade', 'removed', null],
    ]);
    expect(r.changes[0].before).toEqual({ mode: 'verified', isActive: true });
    expect(await cached(l, run)).toEqual({ enrollment: null, certificate: null, grade: null });
  });

  it('writes one audit row naming the operator with what changed, even when nothing did', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { cache: { grade: false } });
    await refreshLearnerEdxData(w.ctx({ operator: 'ops-judy' }), l.username, run.key);
    await refreshLearnerEdxData(w.ctx({ operator: 'ops-judy' }), l.username, run.key);
    const audits = await refreshAudits(l.id);
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      operator: 'ops-judy',
      username: l.username,
      course_key: run.key,
      course_run_id: run.id,
      data_before: [],
      data_after: [{ table: 'dashboard_cachedcurrentgrade', courseKey: run.key, values: { percent: 0.8, passed: true } }],
    });
    expect(audits[1]).toMatchObject({ data_before: [], data_after: [], detail: { changes: 0 } });
  });

  it('spec 2.3: a 401 on the enrollment fetch is invalid-credentials and changes nothing', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run);
    const before = await cached(l, run);
    w.sims.edxorg.knobs.unauthorizedUsers.add(l.uid);
    const error = await opsErrorOf(refreshLearnerEdxData(w.ctx(), l.username, run.key));
    expect(error.code).toBe('invalid-credentials');
    expect(error.hint).toMatch(/log in to MicroMasters with edX again/);
    expect(await cached(l, run)).toEqual(before);
    expect(await refreshAudits(l.id)).toHaveLength(0);
  });

  it('a failing grade call leaves the enrollment cache as it was too', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { cache: { enrollment: false, grade: false } });
    // A grade the simulator cannot serialise: it answers that one call 500, the enrollment call 200.
    w.world.edxorg.setGrade(l.uid, run.key, { percent: 10n, passed: true });
    expect((await opsErrorOf(refreshLearnerEdxData(w.ctx(), l.username, run.key))).code).toBe('edx-error');
    expect(await cached(l, run)).toEqual({ enrollment: null, certificate: null, grade: null });
  });

  it('without a course key refreshes every linked backend; MITx Online gets no certificate call or stamp', async () => {
    const edxRun = await w.addRun();
    const mitxRun = await w.addRun({ backend: 'mitxonline' });
    const l = await w.addLearner(edxRun, { cache: { enrollment: false, grade: false } });
    const mitxUid = `${l.uid}-mitx`;
    w.world.mitxonline.addUser({ username: mitxUid, accessToken: `${mitxUid}-token`, accessTokenExpiresAtMs: Date.now() + 3_600_000 });
    await w.db('social_auth_usersocialauth').insert({
      user_id: l.id,
      provider: 'mitxonline',
      uid: mitxUid,
      extra_data: JSON.stringify({ access_token: `${mitxUid}-token`, expires_in: 36000, updated_at: Date.now() / 1000 }),
      created: new Date(),
      modified: new Date(),
    });
    w.world.mitxonline.enroll(mitxUid, mitxRun.key, { mode: 'audit' });
    w.world.mitxonline.setGrade(mitxUid, mitxRun.key, { percent: 0.66, passed: true });

    const r = await refreshLearnerEdxData(w.ctx(), l.username);

    expect(r.backends).toEqual(['edxorg', 'mitxonline']);
    expect(r.changes.map((c) => [c.table, c.courseKey, c.change])).toEqual([
      ['dashboard_cachedenrollment', edxRun.key, 'added'],
      ['dashboard_cachedenrollment', mitxRun.key, 'added'],
      ['dashboard_cachedcurrentgrade', edxRun.key, 'added'],
      ['dashboard_cachedcurrentgrade', mitxRun.key, 'added'],
    ]);
    expect(w.sims.mitxonline.stats.byEndpoint.certificate).toBe(0);
    const times = await w.db('dashboard_usercacherefreshtime').where('user_id', l.id).first();
    expect(times.enrollment_mitxonline).not.toBeNull();
    expect(times.current_grade_mitxonline).not.toBeNull();

    // With the MITx Online run's key only that backend is asked.
    w.resetSimulators();
    expect((await refreshLearnerEdxData(w.ctx(), l.username, mitxRun.key)).backends).toEqual(['mitxonline']);
    expect(w.sims.edxorg.stats.requests).toBe(0);
  });

  it('names a learner with no linked account, and one not linked on the run backend', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { linked: false });
    expect((await opsErrorOf(refreshLearnerEdxData(w.ctx(), l.username))).code).toBe('no-social-auth');
    const error = await opsErrorOf(refreshLearnerEdxData(w.ctx(), l.username, run.key));
    expect(error.code).toBe('no-social-auth');
    expect(error.hint).toMatch(/log in to MicroMasters with edX/);
    expect((await opsErrorOf(refreshLearnerEdxData(w.ctx(), 'nobody-at-all', run.key))).code).toBe('unknown-user');
  });

  it('spec 2.8: a saved enrollment in a course with an exam run still eligible ensures the exam profile, once', async () => {
    const run = await w.addRun({ exam: true });
    await w
      .db('exams_examrun')
      .where('course_id', run.courseId)
      .update({ date_last_eligible: daysFromNow(40).toISOString().slice(0, 10) });
    const l = await w.addLearner(run, { profile: true, cache: { enrollment: false, grade: false } });
    const first = await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    expect(first.examProfile).toMatchObject({ outcome: 'created', courseKey: run.key });
    const profile = await w.db('profiles_profile').where('user_id', l.id).first('id');
    expect(await w.db('exams_examprofile').where('profile_id', profile.id).select('status')).toEqual([{ status: 'pending' }]);
    expect(await w.db('gradeops_audit_log').where({ user_id: l.id, action: 'exam-profile' })).toHaveLength(1);
    expect((await refreshLearnerEdxData(w.ctx(), l.username, run.key)).examProfile).toMatchObject({ outcome: 'exists' });
    expect(await w.db('exams_examprofile').where('profile_id', profile.id)).toHaveLength(1);
  });

  it('spec 2.8: no exam profile when the exam runs are past eligibility, or the learner has no profile', async () => {
    const past = await w.addRun({ exam: true }); // the helper's exam run was last eligible in 2020
    const a = await w.addLearner(past, { profile: true });
    expect((await refreshLearnerEdxData(w.ctx(), a.username, past.key)).examProfile).toBeNull();

    const open = await w.addRun({ exam: true });
    await w
      .db('exams_examrun')
      .where('course_id', open.courseId)
      .update({ date_last_eligible: daysFromNow(40).toISOString().slice(0, 10) });
    const b = await w.addLearner(open, { profile: false });
    expect((await refreshLearnerEdxData(w.ctx(), b.username, open.key)).examProfile).toMatchObject({ outcome: 'no-profile' });
  });
});
