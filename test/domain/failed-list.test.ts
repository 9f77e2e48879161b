import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { diagnoseLearner } from '../../src/domain/diagnosis/diagnose.js';
import { runFreezeJob } from '../helpers/freeze-mode.js';
import { getFreezeStatus, type FreezeCounts } from '../../src/domain/freeze/freeze-status.js';
import { standingOf, usersNeedingFreeze } from '../../src/domain/freeze/users-needing-freeze.js';
import {
  createTestWorld,
  failedListOf,
  finalGradesOf,
  gradingStatusOf,
  insertFinalGrade,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';

// Issue 6: the failed list is the truth (§1), nobody on it is hidden (§2), one needs-freeze rule (§3).

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

function expectCountsAddUp(s: Pick<FreezeCounts, 'eligible' | 'frozen' | 'remaining'> & { failed: unknown[] }) {
  expect(s.frozen + s.failed.length + s.remaining).toBe(s.eligible);
}

/** The runbook's manual revert (grades/README.md): delete the FinalGrades and the status, DEL the list. */
async function manualRevert(run: TestRun) {
  await w.db('grades_finalgrade').where('course_run_id', run.id).del();
  await w.db('grades_courserungradingstatus').where('course_run_id', run.id).del();
  await w.redis.del(`failed_users_${run.key}`);
}

/** edX forgets the learner in this run: the grade call answers 404 (user_not_enrolled). */
function edxForgets(learner: TestLearner, run: TestRun) {
  w.world[run.backend].enrollments.get(learner.uid)!.delete(run.key);
}

describe('the failed list is the truth (issue 6 §1)', () => {
  it('after a manual revert that cleared the list, a re-run retries the learners who failed and freezes them', async () => {
    const run = await w.addRun();
    const [a, b] = await w.addLearners(run, 2);
    const [ok] = await w.addLearners(run, 1);
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    w.sims.edxorg.knobs.faults.set(b.uid, 500);
    const first = await runFreezeJob(w.ctx(), run.key);
    expect(first.failed.map((f) => f.userId).sort()).toEqual([a.id, b.id].sort());

    await manualRevert(run);
    w.resetSimulators(); // edX is fixed
    const status = await getFreezeStatus(w.ctx(), run.key);
    // The old failure rows are history: nobody is failed, everyone is remaining.
    expect(status).toMatchObject({ status: 'not_started', eligible: 3, frozen: 0, failed: [], remaining: 3, dropped: [] });

    const again = await runFreezeJob(w.ctx(), run.key);
    expect(again).toMatchObject({ status: 'complete', outcome: 'completed', eligible: 3, frozen: 3, frozenThisRun: 3, failed: [] });
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id).sort()).toEqual([a.id, b.id, ok.id].sort());
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(3);
    // Frozen now: their history rows are cleared too.
    expect(await w.db('gradeops_freeze_failure').where('course_run_id', run.id)).toHaveLength(0);
  });

  it('a failure row of a learner not on the list is not counted, not shown, and diagnose calls it history', async () => {
    const run = await w.addRun();
    const [a] = await w.addLearners(run, 2);
    await w.db('gradeops_freeze_failure').insert({
      course_run_id: run.id,
      user_id: a.id,
      reason: 'edx-error',
      message: 'edX answered 500',
      failed_on: new Date('2026-11-30T16:00:00Z'),
    });
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 2, frozen: 0, failed: [], remaining: 2, dropped: [] });

    const d = await diagnoseLearner(w.ctx(), a.username, run.key);
    const check = d.checks.find((c) => c.id === 'failed-freeze')!;
    expect(check.outcome).toBe('info');
    expect(check.detail).toContain('not on the failed list');
    expect(check.detail).toContain('edx-error');
    expect(check.detail).toContain('retries');

    // Back on the list (MicroMasters or gradeops pushed it): failed again, with gradeops' reason.
    await w.redis.lpush(`failed_users_${run.key}`, String(a.id));
    const listed = await getFreezeStatus(w.ctx(), run.key);
    expect(listed.failed).toEqual([expect.objectContaining({ userId: a.id, reason: 'edx-error', message: 'edX answered 500' })]);
    expect(listed.remaining).toBe(1);
  });
});

describe('nobody on the failed list is hidden (issue 6 §2)', () => {
  it('a learner whose grade call answers 404 is reported as dropped with reason no-current-grade; the counts still add up', async () => {
    const run = await w.addRun();
    const [gone] = await w.addLearners(run, 1);
    const others = await w.addLearners(run, 2);
    edxForgets(gone, run);

    const summary = await runFreezeJob(w.ctx(), run.key);
    // spec 2.3: the 4xx deleted the cached grade, so the learner is no longer eligible.
    expect(await w.db('dashboard_cachedcurrentgrade').where({ user_id: gone.id, course_run_id: run.id })).toHaveLength(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([String(gone.id)]);
    expect(summary).toMatchObject({
      status: 'pending',
      outcome: 'finished-with-failures',
      eligible: 2,
      frozen: 2,
      failed: [],
      remaining: 0,
    });
    expect(summary.dropped).toEqual([
      {
        userId: gone.id,
        username: gone.username,
        reason: 'no-current-grade',
        message: expect.stringContaining('edX no longer reports a current grade'),
      },
    ]);
    expect(summary.dropped[0].message).toContain(`gradeops freeze-user ${gone.username} ${run.key}`);
    expectCountsAddUp(summary);

    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status.dropped).toEqual([expect.objectContaining({ userId: gone.id, reason: 'no-current-grade' })]);
    expect(status.dropped[0].lastFailure).toMatchObject({ reason: 'missing-cached-data' });
    expectCountsAddUp(status);

    const d = await diagnoseLearner(w.ctx(), gone.username, run.key);
    expect(d.checks.find((c) => c.id === 'failed-freeze')).toMatchObject({
      outcome: 'warn',
      detail: expect.stringContaining('dropped (no-current-grade)'),
    });
    expect(d.nextStep).toContain(`gradeops freeze-user ${gone.username} ${run.key}`);

    // The next run completes without them (spec 2.6 step 5) and its summary still names them.
    const again = await runFreezeJob(w.ctx(), run.key);
    expect(again).toMatchObject({ status: 'complete', outcome: 'completed', frozenThisRun: 0 });
    expect(again.dropped).toEqual([expect.objectContaining({ userId: gone.id, reason: 'no-current-grade' })]);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
    void others;
  });

  it('names every kind of ineligible id on the list: no enrollment, unknown user; frozen ones are frozen', async () => {
    const run = await w.addRun();
    const [frozen, listed] = await w.addLearners(run, 2);
    const outsider = await w.addLearner(await w.addRun());
    await insertFinalGrade(w.db, frozen.id, run.id, { grade: 0.8, passed: true, status: 'complete' });
    await w.redis.lpush(`failed_users_${run.key}`, String(frozen.id), String(listed.id), String(outsider.id), '987654321', 'x');
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ eligible: 2, frozen: 1, remaining: 0 });
    expect(status.failed.map((f) => f.userId)).toEqual([listed.id]);
    expect(status.dropped.map((d) => [d.userId, d.reason]).sort()).toEqual(
      [
        [outsider.id, 'no-enrollment'],
        [987654321, 'unknown-user'],
      ].sort(),
    );
    expectCountsAddUp(status);
  });
});

describe('one rule for who needs a freeze (issue 6 §3)', () => {
  it('the id list, the counts and the per-learner standing agree on every kind of learner', async () => {
    const run = await w.addRun();
    const plain = await w.addLearner(run);
    const noGrade = await w.addLearner(run, { cache: { grade: false } });
    const noEnrollment = await w.addLearner(run, { cache: { enrollment: false, grade: { percent: 0.5, passed: true } } });
    const pending = await w.addLearner(run);
    const complete = await w.addLearner(run);
    const frozenGone = await w.addLearner(run);
    await insertFinalGrade(w.db, pending.id, run.id, { grade: 0.1, passed: false, status: 'pending' });
    await insertFinalGrade(w.db, complete.id, run.id, { grade: 0.8, passed: true, status: 'complete' });
    await insertFinalGrade(w.db, frozenGone.id, run.id, { grade: 0.8, passed: true, status: 'complete' });
    await w.db('dashboard_cachedcurrentgrade').where({ user_id: frozenGone.id, course_run_id: run.id }).del();
    const all = [plain, noGrade, noEnrollment, pending, complete, frozenGone].map((l) => l.id);

    // spec 2.2 by hand: plain and pending (a pending FinalGrade does not exclude) need a freeze.
    const expected = [plain.id, pending.id].sort((x, y) => x - y);
    expect(await usersNeedingFreeze(w.db, run.id)).toEqual(expected);
    const standing = await standingOf(w.db, run.id, all);
    expect(
      standing
        .filter((s) => s.needsFreeze)
        .map((s) => s.userId)
        .sort((x, y) => x - y),
    ).toEqual(expected);
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status.eligible - status.frozen).toBe(expected.length);
    expect(status).toMatchObject({ frozen: 2, eligible: 4, remaining: 2 });
  });
});
