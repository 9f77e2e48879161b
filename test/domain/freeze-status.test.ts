import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { completeFreeze } from '../../src/domain/freeze/complete-freeze.js';
import { runFreezeJob } from '../helpers/freeze-mode.js';
import { getFreezeStatus, type FreezeStatus } from '../../src/domain/freeze/freeze-status.js';
import { setStatusComplete } from '../../src/domain/course-runs/grading-status.js';
import { usersNeedingFreeze } from '../../src/domain/freeze/users-needing-freeze.js';
import {
  createTestWorld,
  daysFromNow,
  failedListOf,
  gradingStatusOf,
  insertFinalGrade,
  opsErrorOf,
  type TestWorld,
} from '../helpers/world.js';

// Issue #3 parts 6 and 7: counts that add up (spec 5b) and force-complete (spec 2.7 corrected).

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

function expectCountsAddUp(s: FreezeStatus) {
  expect(s.frozen + s.failed.length + s.remaining).toBe(s.eligible);
  expect(new Set(s.failed.map((f) => f.userId)).size).toBe(s.failed.length);
}

describe('users needing a freeze (spec 2.2, T3)', () => {
  it('cached enrollment ∩ cached current grade − complete FinalGrade; a pending FinalGrade does not exclude', async () => {
    const run = await w.addRun();
    const u1 = await w.addLearner(run);
    const u2 = await w.addLearner(run, { cache: { grade: false } });
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual([u1.id]);
    await w
      .db('dashboard_cachedcurrentgrade')
      .insert({ user_id: u2.id, course_run_id: run.id, data: JSON.stringify({ percent: 0.5, passed: false }) });
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual([u1.id, u2.id]);
    await insertFinalGrade(w.db, u2.id, run.id, { grade: 0, passed: false, status: 'pending' });
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual([u1.id, u2.id]);
    await w.db('grades_finalgrade').where({ user_id: u2.id, course_run_id: run.id }).update({ status: 'complete' });
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual([u1.id]);
    // Rows of another run never count.
    const other = await w.addRun();
    await w.addLearner(other);
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual([u1.id]);
  });
});

describe('getFreezeStatus', () => {
  it('not started: every candidate remaining; enrollment-only learners are not eligible', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 3);
    await w.addLearner(run, { cache: { grade: false } });
    await w.addLearner(run, { cache: { enrollment: false } });
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({
      courseKey: run.key,
      status: 'not_started',
      canFreeze: true,
      eligible: 3,
      frozen: 0,
      failed: [],
      remaining: 3,
      running: false,
      job: null,
      micromastersTaskGroup: false,
      finalGradeRows: 0,
    });
    expectCountsAddUp(status);
  });

  it('frozen counts only complete FinalGrades; a pending one stays remaining; every row is still reported (T3)', async () => {
    const run = await w.addRun();
    const [a, b, c] = await w.addLearners(run, 3);
    await insertFinalGrade(w.db, a.id, run.id, { grade: 0.6, passed: true, status: 'complete' });
    await insertFinalGrade(w.db, b.id, run.id, { grade: 0, passed: false, status: 'pending' });
    let status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 3, frozen: 1, remaining: 2, finalGradeRows: 2 });
    expectCountsAddUp(status);
    await w.db('grades_finalgrade').where({ user_id: b.id, course_run_id: run.id }).update({ status: 'complete' });
    status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 3, frozen: 2, remaining: 1 });
    expectCountsAddUp(status);
    void c;
  });

  it('a frozen learner whose cached rows were deleted later still counts as eligible and frozen', async () => {
    const run = await w.addRun();
    const [a] = await w.addLearners(run, 2);
    await insertFinalGrade(w.db, a.id, run.id, { grade: 0.6, passed: true, status: 'complete' });
    await w.db('dashboard_cachedcurrentgrade').where({ user_id: a.id }).del();
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 2, frozen: 1, remaining: 1 });
    expectCountsAddUp(status);
  });

  it('after a job with failures: pending, failed learners with their reasons, counts add up', async () => {
    const run = await w.addRun();
    const [bad1, bad2] = await w.addLearners(run, 2);
    await w.addLearners(run, 3);
    w.sims.edxorg.knobs.faults.set(bad1.uid, 500);
    w.sims.edxorg.knobs.faults.set(bad2.uid, 'timeout');
    await runFreezeJob(w.ctx(), run.key);
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ status: 'pending', eligible: 5, frozen: 3, remaining: 0, running: false });
    expect(status.failed.map((f) => [f.username, f.reason]).sort()).toEqual(
      [
        [bad1.username, 'edx-error'],
        [bad2.username, 'edx-timeout'],
      ].sort(),
    );
    expect(status.failed.every((f) => f.failedOn instanceof Date)).toBe(true);
    expect(status.lastProgress).toMatchObject({ state: 'finished', queued: 5, frozen: 3, failed: 2, done: 5 });
    expectCountsAddUp(status);
  });

  it('duplicates and MicroMasters-written ids on failed_users_{key}: distinct users, reason reported-by-micromasters, counts still add up', async () => {
    const run = await w.addRun();
    const [a, b, c, d] = await w.addLearners(run, 4);
    const outsider = await w.addLearner(await w.addRun());
    const ghost = await w.addLearner(run, { cache: { grade: false } });
    await insertFinalGrade(w.db, d.id, run.id, { grade: 0.9, passed: true, status: 'complete' });
    // As MicroMasters does it: LPUSH decimal ids, duplicates allowed, for frozen and ineligible users too.
    await w.redis.lpush(
      `failed_users_${run.key}`,
      String(a.id),
      String(a.id),
      String(b.id),
      String(a.id),
      String(d.id),
      String(outsider.id),
      String(ghost.id),
      'not-a-number',
    );
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 4, frozen: 1 });
    expect(status.failed.map((f) => [f.userId, f.reason]).sort()).toEqual(
      [
        [a.id, 'reported-by-micromasters'],
        [b.id, 'reported-by-micromasters'],
      ].sort(),
    );
    expect(status.failed.find((f) => f.userId === a.id)?.username).toBe(a.username);
    expect(status.remaining).toBe(1);
    expectCountsAddUp(status);
    void c;
  });

  it('a gradeops reason wins over the bare MicroMasters entry for the same learner', async () => {
    const run = await w.addRun();
    const [a] = await w.addLearners(run, 2);
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    await runFreezeJob(w.ctx(), run.key);
    await w.redis.lpush(`failed_users_${run.key}`, String(a.id), String(a.id));
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status.failed).toEqual([expect.objectContaining({ userId: a.id, reason: 'edx-error' })]);
    expectCountsAddUp(status);
  });

  it('a missing freeze date gives canFreeze false, not an error; a future one too', async () => {
    const undated = await w.addRun({ freezeDate: null });
    await w.addLearners(undated, 1);
    const status = await getFreezeStatus(w.ctx(), undated.key);
    expect(status).toMatchObject({ canFreeze: false, freezeDate: null, eligible: 1, remaining: 1 });
    const future = await w.addRun({ freezeDate: daysFromNow(3) });
    expect(await getFreezeStatus(w.ctx(), future.key)).toMatchObject({ canFreeze: false, freezeDate: expect.any(String) });
  });

  it('complete after a job; reports a MicroMasters task group key', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 2);
    await runFreezeJob(w.ctx(), run.key);
    await w.redis.set(`:1:freeze_grade_${run.key}`, 'pickled');
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ status: 'complete', eligible: 2, frozen: 2, remaining: 0, failed: [], micromastersTaskGroup: true });
  });

  it('unknown and malformed keys are refused', async () => {
    expect((await opsErrorOf(getFreezeStatus(w.ctx(), 'course-v1:MITx+Missing+1T2020'))).code).toBe('unknown-course-key');
    expect((await opsErrorOf(getFreezeStatus(w.ctx(), 'nope'))).code).toBe('malformed-course-key');
  });
});

describe('completeFreeze (spec 2.7 corrected by 5b)', () => {
  it('refuses a missing freeze date with missing-freeze-date and a future one with cannot-freeze-yet; nothing changes', async () => {
    const undated = await w.addRun({ freezeDate: null });
    expect((await opsErrorOf(completeFreeze(w.ctx(), undated.key))).code).toBe('missing-freeze-date');
    expect(await gradingStatusOf(w.db, undated.id)).toBeNull();
    const future = await w.addRun({ freezeDate: daysFromNow(1) });
    await w.redis.lpush(`failed_users_${future.key}`, '5');
    const error = await opsErrorOf(completeFreeze(w.ctx(), future.key));
    expect(error.code).toBe('cannot-freeze-yet');
    expect(error.message).toMatch(/marked as frozen/);
    expect(await gradingStatusOf(w.db, future.id)).toBeNull();
    expect(await failedListOf(w.redis, future.key)).toEqual(['5']);
  });

  it('refuses while a job holds the lock (freeze-running)', async () => {
    const run = await w.addRun();
    await w.redis.set(
      `gradeops:freeze:lock:${run.key}`,
      JSON.stringify({ token: 'x', operator: 'ops-dave', host: 'box-7', pid: 4242, startedOn: new Date().toISOString() }),
      'PX',
      30_000,
    );
    const error = await opsErrorOf(completeFreeze(w.ctx(), run.key));
    expect(error.code).toBe('freeze-running');
    expect(error.message).toContain('ops-dave');
    expect(await gradingStatusOf(w.db, run.id)).toBeNull();
  });

  it('an already-complete run reports alreadyComplete and changes nothing', async () => {
    const run = await w.addRun();
    await setStatusComplete(w.db, run.id, new Date());
    await w.redis.lpush(`failed_users_${run.key}`, '1');
    const result = await completeFreeze(w.ctx(), run.key);
    expect(result).toMatchObject({ status: 'complete', alreadyComplete: true, clearedFailedUsers: 0 });
    expect(await failedListOf(w.redis, run.key)).toEqual(['1']);
    expect(await w.db('gradeops_audit_log').where({ course_run_id: run.id, action: 'complete-freeze' })).toHaveLength(0);
  });

  it('marks complete, clears failed_users_{key} and gradeops keys, leaves the pickled MicroMasters key but warns about it', async () => {
    const run = await w.addRun();
    const [a, b] = await w.addLearners(run, 3);
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    w.sims.edxorg.knobs.faults.set(b.uid, 500);
    await runFreezeJob(w.ctx(), run.key);
    await w.redis.lpush(`failed_users_${run.key}`, String(a.id)); // a duplicate, as MicroMasters may leave
    const groupKey = `:1:freeze_grade_${run.key}`;
    const pickled = Buffer.from([0x80, 0x04, 0x95, 0x00, 0xff]);
    await w.redis.set(groupKey, pickled);
    expect(await w.redis.exists(`gradeops:freeze:progress:${run.key}`)).toBe(1);
    expect(await gradingStatusOf(w.db, run.id)).toBe('pending');

    const result = await completeFreeze(w.ctx({ operator: 'ops-erin' }), run.key);
    expect(result).toMatchObject({ courseKey: run.key, status: 'complete', alreadyComplete: false, clearedFailedUsers: 2 });
    expect(result.warnings.join(' ')).toContain(groupKey);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(await w.redis.exists(`failed_users_${run.key}`)).toBe(0);
    expect(await w.redis.exists(`gradeops:freeze:progress:${run.key}`)).toBe(0);
    expect(await w.redis.getBuffer(groupKey)).toEqual(pickled);
    const audit = await w.db('gradeops_audit_log').where({ course_run_id: run.id, action: 'complete-freeze' });
    expect(audit).toEqual([
      expect.objectContaining({ operator: 'ops-erin', data_before: { status: 'pending' }, data_after: { status: 'complete' } }),
    ]);

    // The learners stay unfrozen; the counts still add up.
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ status: 'complete', eligible: 3, frozen: 1 });
    expectCountsAddUp(status);
    // Completing again is a no-op.
    expect((await completeFreeze(w.ctx(), run.key)).alreadyComplete).toBe(true);
  });

  it('a never-started run with a past date becomes complete without warnings', async () => {
    const run = await w.addRun();
    const result = await completeFreeze(w.ctx(), run.key);
    expect(result).toMatchObject({ alreadyComplete: false, clearedFailedUsers: 0, warnings: [] });
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
  });
});
