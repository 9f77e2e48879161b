import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { diagnoseLearner, type Diagnosis } from '../../src/domain/diagnosis/diagnose.js';
import { refreshLearnerEdxData } from '../../src/domain/edx/learner-refresh.js';
import { freezeOneUser } from '../../src/domain/final-grades/freeze-user.js';
import { createTestWorld, daysFromNow, insertFinalGrade, opsErrorOf, type TestWorld } from '../helpers/world.js';

// Issue #3 part 10 (spec 2.9): the checks in order, the outcome of each, the one next step, and
// no unmasked token anywhere. Read-only: edX is never called.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const ORDER = [
  'account',
  'course-run',
  'edx-token',
  'cached-enrollment',
  'cached-current-grade',
  'certificate',
  'computed-grade',
  'final-grade',
  'failed-freeze',
  'grading-status',
];
const check = (d: Diagnosis, id: string) => d.checks.find((c) => c.id === id)!;

function expectReadOnlyShape(d: Diagnosis) {
  expect(d.checks.map((c) => c.id)).toEqual(ORDER);
  expect(d.nextStep.length).toBeGreaterThan(0);
}

describe('diagnoseLearner', () => {
  it('healthy frozen learner: every check passes, nothing to do, and no edX call during the diagnosis', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { grade: { percent: 0.9, passed: true }, certificate: { type: 'verified', status: 'downloadable' } });
    await freezeOneUser(w.ctx(), l.username, run.key);
    w.resetSimulators();
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(w.sims.edxorg.stats.requests).toBe(0);
    expect(d.nextAction).toBe('none');
    for (const id of [
      'account',
      'course-run',
      'edx-token',
      'cached-enrollment',
      'cached-current-grade',
      'certificate',
      'final-grade',
      'failed-freeze',
    ]) {
      expect(check(d, id).outcome, id).toBe('ok');
    }
    // The run itself is not marked complete yet (only this learner was frozen).
    expect(check(d, 'grading-status')).toMatchObject({ outcome: 'info', detail: 'not started' });
    expect(check(d, 'computed-grade')).toMatchObject({ outcome: 'info' });
    expect(check(d, 'computed-grade').detail).toContain('0.9');
    expect(d.computed).toMatchObject({ grade: 0.9, passed: true, paidOnEdx: true });
    expect(check(d, 'account').detail).toContain(l.username);
  });

  it('healthy but not yet frozen learner: next step is to freeze them', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { certificate: { type: 'verified', status: 'downloadable' } });
    await w.db('dashboard_usercacherefreshtime').insert({ user_id: l.id, current_grade: new Date() });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'final-grade').outcome).toBe('fail');
    expect(check(d, 'cached-current-grade').outcome).toBe('ok');
    expect(d.nextAction).toBe('freeze-user');
    expect(d.nextStep).toContain(l.username);
  });

  it('no social auth: the token check fails and the learner must link their account', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { linked: false });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'edx-token')).toMatchObject({ outcome: 'fail' });
    expect(check(d, 'edx-token').detail).toMatch(/no edxorg social-auth row/);
    expect(d.nextAction).toBe('link-account');
    expect(d.nextStep).toContain('edX');
  });

  it('spec E10, no cached enrollment: names gradeops refresh; after the refresh finds it, those checks pass', async () => {
    const run = await w.addRun({ exam: true });
    const l = await w.addLearner(run, { grade: { percent: 0.81, passed: true }, cache: { enrollment: false, grade: false } });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'cached-enrollment').outcome).toBe('fail');
    expect(check(d, 'cached-current-grade').outcome).toBe('fail');
    expect(check(d, 'computed-grade').outcome).toBe('fail');
    expect(check(d, 'edx-token').outcome).toBe('ok');
    expect(d.nextAction).toBe('refresh-enrollments');
    expect(d.nextStep).toContain(`gradeops refresh ${l.username} ${run.key}`);
    expect(w.sims.edxorg.stats.requests).toBe(0);

    await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    const after = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(after, 'cached-enrollment').outcome).toBe('ok');
    expect(check(after, 'cached-current-grade').outcome).toBe('ok');
    expect(check(after, 'computed-grade').outcome).toBe('info');
    expect(after.computed).toMatchObject({ grade: 0.81, passed: true, paidOnEdx: true });
    expect(after.nextAction).toBe('freeze-user');
    expect(after.nextStep).toContain(`gradeops freeze-user ${l.username} ${run.key}`);
  });

  it('no enrollment even on edX: right after a refresh, the next step is enrolling, not another refresh', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { enrollment: null });
    await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(d, 'cached-enrollment').outcome).toBe('fail');
    expect(d.nextAction).toBe('refresh-enrollments');
    expect(d.nextStep).toMatch(/^edX listed no enrollment of .* must enroll there first/);
  });

  it('no cached current grade: that check and the computation fail; the next step names gradeops refresh', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { cache: { grade: false } });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'cached-enrollment').outcome).toBe('ok');
    expect(check(d, 'cached-current-grade').outcome).toBe('fail');
    expect(check(d, 'computed-grade').outcome).toBe('fail');
    expect(d.computed).toBeNull();
    expect(d.nextAction).toBe('refresh-grades');
    expect(d.nextStep.startsWith(`no current grade is cached: gradeops refresh ${l.username} ${run.key}`)).toBe(true);
  });

  it('a stale current grade names gradeops refresh; once refreshed, the next step is the freeze', async () => {
    const run = await w.addRun({ exam: true });
    const l = await w.addLearner(run);
    await w.db('dashboard_usercacherefreshtime').insert({ user_id: l.id, current_grade: new Date(Date.now() - 2 * 3600_000) });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(d, 'cached-current-grade')).toMatchObject({ outcome: 'warn' });
    expect(check(d, 'cached-current-grade').detail).toContain('(stale)');
    expect(d.nextAction).toBe('refresh-grades');
    expect(d.nextStep).toContain('stale');
    expect(d.nextStep).toContain(`gradeops refresh ${l.username} ${run.key}`);
    await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    const after = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(after, 'cached-current-grade').outcome).toBe('ok');
    expect(after.nextAction).toBe('freeze-user');
  });

  it('a missing certificate in an edX course without exams names gradeops refresh; the refresh finds it and it passes', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { certificate: { type: 'verified', status: 'downloadable' }, cache: { certificate: false } });
    await w.db('dashboard_usercacherefreshtime').insert({ user_id: l.id, current_grade: new Date() });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(d, 'certificate').outcome).toBe('warn');
    expect(d.computed).toMatchObject({ passed: false });
    expect(d.nextAction).toBe('refresh-grades');
    expect(d.nextStep).toMatch(/no verified certificate is cached/);
    expect(d.nextStep).toContain(`gradeops refresh ${l.username} ${run.key}`);
    await refreshLearnerEdxData(w.ctx(), l.username, run.key);
    const after = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(after, 'certificate').outcome).toBe('ok');
    expect(after.computed).toMatchObject({ passed: true });
    expect(after.nextAction).toBe('freeze-user');
  });

  it('relinked learner whose FinalGrade differs from the cached data: resync', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, {
      grade: { percent: 0.77, passed: true },
      certificate: { type: 'verified', status: 'downloadable' },
    });
    await insertFinalGrade(w.db, l.id, run.id, { grade: 0, passed: false, status: 'complete', paid: false });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'final-grade').outcome).toBe('warn');
    expect(check(d, 'final-grade').detail).toMatch(/differs/);
    expect(d.nextAction).toBe('resync');
    expect(d.nextStep).toContain('resync');
  });

  it('MITx Online course without exams: the certificate check says certificates are never fetched', async () => {
    const run = await w.addRun({ backend: 'mitxonline' });
    const l = await w.addLearner(run, { grade: { percent: 0.93, passed: true } });
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expectReadOnlyShape(d);
    expect(check(d, 'certificate').outcome).toBe('info');
    expect(check(d, 'certificate').detail).toMatch(/never fetched/);
    expect(d.computed).toMatchObject({ passed: false, grade: 0.93 });
    expect(check(d, 'course-run').detail).toContain('MITx Online');
  });

  it('a failed freeze is shown with its reason; a refused refresh asks the learner to sign in again', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run, { token: 'needs-refresh' });
    w.sims.edxorg.knobs.unauthorizedUsers.add(l.uid);
    await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    w.resetSimulators();
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    expect(check(d, 'failed-freeze')).toMatchObject({ outcome: 'warn' });
    expect(check(d, 'failed-freeze').detail).toMatch(/^invalid-credentials/);
    expect(check(d, 'edx-token').outcome).toBe('warn');
    expect(d.nextAction).toBe('sign-in-again');
    expect(w.sims.edxorg.stats.requests).toBe(0);
  });

  it('an undated run: the course-run check fails and the next step sets the freeze date; a future one waits', async () => {
    const undated = await w.addRun({ freezeDate: null });
    const a = await w.addLearner(undated);
    const d = await diagnoseLearner(w.ctx(), a.username, undated.key);
    expect(check(d, 'course-run').outcome).toBe('fail');
    expect(d.nextAction).toBe('set-freeze-date');
    const future = await w.addRun({ freezeDate: daysFromNow(5) });
    const b = await w.addLearner(future);
    expect((await diagnoseLearner(w.ctx(), b.username, future.key)).nextAction).toBe('wait-for-freeze-date');
  });

  it('never shows an access or refresh token unmasked, only its last four characters', async () => {
    const run = await w.addRun();
    const l = await w.addLearner(run);
    // After a freeze the stored token may have been rotated; check both the original and the stored one.
    const stored = (await w.db('social_auth_usersocialauth').where('user_id', l.id).first()).extra_data;
    const d = await diagnoseLearner(w.ctx(), l.username, run.key);
    const text = JSON.stringify(d);
    for (const secret of [l.accessToken, l.refreshToken, stored.access_token, stored.refresh_token]) {
      expect(text).not.toContain(secret);
    }
    expect(check(d, 'edx-token').detail).toContain(`****${l.accessToken.slice(-4)}`);

    const mitxRun = await w.addRun({ backend: 'mitxonline' });
    const m = await w.addLearner(mitxRun, { token: 'needs-refresh' });
    const dm = await diagnoseLearner(w.ctx(), m.username, mitxRun.key);
    expect(JSON.stringify(dm)).not.toContain(m.accessToken);
    expect(check(dm, 'edx-token').detail).toContain(`****${m.accessToken.slice(-4)}`);
  });

  it('unknown learner or run is named', async () => {
    const run = await w.addRun();
    expect((await opsErrorOf(diagnoseLearner(w.ctx(), 'ghost-user', run.key))).code).toBe('unknown-user');
    const l = await w.addLearner(run);
    expect((await opsErrorOf(diagnoseLearner(w.ctx(), l.username, 'course-v1:MITx+Nope+1T2020'))).code).toBe('unknown-course-key');
  });
});

describe('diagnose writes nothing (issue 12 §6)', () => {
  /** Every row of every table (as text) and every Redis key with its value: any write shows. */
  async function everything(): Promise<{ tables: Record<string, string>; redis: Record<string, string> }> {
    const tables: Record<string, string> = {};
    const names = (await w.db.raw(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`))
      .rows as Array<{ t: string }>;
    for (const { t } of names) {
      const r = (await w.db.raw(`SELECT coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') AS rows FROM ${t} x`)).rows as Array<{
        rows: string;
      }>;
      tables[t] = r[0].rows;
    }
    const redis: Record<string, string> = {};
    for (const key of (await w.redis.keys('*')).sort()) {
      const type = await w.redis.type(key);
      redis[key] =
        type === 'list'
          ? JSON.stringify(await w.redis.lrange(key, 0, -1))
          : type === 'hash'
            ? JSON.stringify(await w.redis.hgetall(key))
            : String(await w.redis.get(key));
    }
    return { tables, redis };
  }

  it('leaves every table and every Redis key as they were, for a failed learner with an expired token on a pending run', async () => {
    const run = await w.addRun();
    const [failing] = await w.addLearners(run, 1, { token: 'needs-refresh' });
    await w.addLearners(run, 2);
    w.sims.edxorg.knobs.faults.set(failing.uid, 500);
    const { runFreezeJob } = await import('../../src/domain/freeze/freeze-job.js');
    await runFreezeJob(w.ctx(), run.key);
    w.resetSimulators();
    const before = await everything();
    const d = await diagnoseLearner(w.ctx(), failing.username, run.key);
    expect(check(d, 'failed-freeze').outcome).toBe('warn');
    expect(check(d, 'edx-token').outcome).toBe('warn');
    expect(await everything()).toEqual(before);
    expect(w.sims.edxorg.stats.requests).toBe(0);
  });
});
