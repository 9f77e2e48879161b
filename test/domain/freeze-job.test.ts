import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FreezeEmitter, type FreezeEvents } from '../../src/domain/freeze/freeze-events.js';
import type { FreezeJobSummary } from '../../src/domain/freeze/freeze-job.js';
import { runFreezeJob } from '../helpers/freeze-mode.js';
import { getFreezeStatus } from '../../src/domain/freeze/freeze-status.js';
import { completeFreeze } from '../../src/domain/freeze/complete-freeze.js';
import { acquireFreezeLock } from '../../src/domain/freeze/freeze-lock.js';
import { revertFreeze } from '../../src/domain/final-grades/revert.js';
import { freezeOneUser } from '../../src/domain/final-grades/freeze-user.js';
import {
  createTestWorld,
  daysFromNow,
  failedListOf,
  finalGradesOf,
  gradingStatusOf,
  insertFinalGrade,
  opsErrorOf,
  type LearnerSpec,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';
import { refusedUrl } from '../helpers/refused-url.js';

// The freeze job (spec 2.6 as corrected by 5b and issue #3) against the simulator: completion
// rules, failures with reasons, retries, one job per run, interruption and crash take-over.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld({ timeoutMs: 1_000 });
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const lockKey = (key: string) => `gradeops:freeze:lock:${key}`;

/** Records every event of a job, by name. */
function recorder() {
  const events = new FreezeEmitter();
  const seen: { [K in keyof FreezeEvents]: Array<FreezeEvents[K][0]> } = {
    'freeze:started': [],
    'freeze:user-frozen': [],
    'freeze:user-failed': [],
    'freeze:progress': [],
    'freeze:warning': [],
    'freeze:finished': [],
  };
  for (const name of Object.keys(seen) as Array<keyof FreezeEvents>) {
    (events as unknown as { on(n: string, f: (p: unknown) => void): void }).on(name, (payload) => {
      (seen[name] as unknown[]).push(payload);
    });
  }
  return { events, seen };
}

async function runWith(
  count: number,
  spec?: LearnerSpec | ((i: number) => LearnerSpec),
  runSpec: Parameters<TestWorld['addRun']>[0] = {},
): Promise<{ run: TestRun; learners: TestLearner[] }> {
  const run = await w.addRun(runSpec);
  const learners = await w.addLearners(run, count, spec);
  return { run, learners };
}

function expectCountsAddUp(s: { eligible: number; frozen: number; failed: unknown[]; remaining: number }) {
  expect(s.frozen + s.failed.length + s.remaining).toBe(s.eligible);
}

const auditCount = async (runId: number, action: string) =>
  Number((await w.db('gradeops_audit_log').where({ course_run_id: runId, action }).count('* as n').first())!.n);

describe('completion rules (T15–T17 as corrected by issue #3)', () => {
  it('no failures: everyone frozen and the run marked complete at once; events and counts agree', async () => {
    const { run, learners } = await runWith(5, (i) => ({ grade: { percent: 0.5 + i / 10, passed: true } }));
    const { events, seen } = recorder();
    const summary = await runFreezeJob(w.ctx({ operator: 'ops-carol' }), run.key, { concurrency: 3, events });

    expect(summary).toMatchObject({
      courseKey: run.key,
      status: 'complete',
      outcome: 'completed',
      eligible: 5,
      frozen: 5,
      frozenThisRun: 5,
      failed: [],
      remaining: 0,
    });
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    const rows = await finalGradesOf(w.db, run.id);
    expect(rows.map((r) => r.user_id).sort()).toEqual(learners.map((l) => l.id).sort());
    expect(rows.every((r) => r.status === 'complete')).toBe(true);
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
    expect(await w.redis.exists(lockKey(run.key))).toBe(0);

    expect(seen['freeze:started']).toEqual([
      expect.objectContaining({ courseKey: run.key, queued: 5, eligible: 5, alreadyFrozen: 0, skippedFailed: 0, concurrency: 3 }),
    ]);
    expect(seen['freeze:user-frozen']).toHaveLength(5);
    expect(new Set(seen['freeze:user-frozen'].map((e) => e.username))).toEqual(new Set(learners.map((l) => l.username)));
    expect(seen['freeze:user-failed']).toHaveLength(0);
    expect(seen['freeze:finished']).toEqual([
      expect.objectContaining({
        outcome: 'finished',
        progress: expect.objectContaining({ queued: 5, frozen: 5, failed: 0, done: 5, state: 'finished' }),
      }),
    ]);

    // Audit: one row per FinalGrade with the operator, plus the job's own rows.
    const audits = await w.db('gradeops_audit_log').where({ course_run_id: run.id, action: 'freeze-user' });
    expect(audits).toHaveLength(5);
    expect(audits.every((a) => a.operator === 'ops-carol')).toBe(true);
    expect(await auditCount(run.id, 'freeze-completed')).toBe(1);
    const jobs = await w.db('gradeops_freeze_run').where('course_run_id', run.id);
    expect(jobs).toEqual([
      expect.objectContaining({
        outcome: 'finished',
        frozen: 5,
        failed: 0,
        queued: 5,
        operator: 'ops-carol',
        host: os.hostname(),
        pid: process.pid,
      }),
    ]);
  });

  it('an already-complete run is left alone: no edX call, no Redis key, no new rows (T17)', async () => {
    const { run } = await runWith(2);
    await runFreezeJob(w.ctx(), run.key);
    w.resetSimulators();
    await w.clearRedis();
    const before = await finalGradesOf(w.db, run.id);
    const summary = await runFreezeJob(w.ctx(), run.key);
    expect(summary).toMatchObject({ status: 'complete', outcome: 'already-complete', frozen: 2, frozenThisRun: 0 });
    expect(w.sims.edxorg.stats.requests).toBe(0);
    expect(await w.redisKeys()).toEqual([]);
    expect(await finalGradesOf(w.db, run.id)).toEqual(before);
  });

  it('a future freeze date refuses and creates no status row; a missing one is its own error (T17, E1)', async () => {
    const { run } = await runWith(1, {}, { freezeDate: daysFromNow(2) });
    expect((await opsErrorOf(runFreezeJob(w.ctx(), run.key))).code).toBe('cannot-freeze-yet');
    expect(await gradingStatusOf(w.db, run.id)).toBeNull();
    const { run: undated } = await runWith(1, {}, { freezeDate: null });
    expect((await opsErrorOf(runFreezeJob(w.ctx(), undated.key))).code).toBe('missing-freeze-date');
    expect(await gradingStatusOf(w.db, undated.id)).toBeNull();
    expect(w.sims.edxorg.stats.requests).toBe(0);
    expect(await w.redis.exists(lockKey(run.key), lockKey(undated.key))).toBe(0);
  });

  it('a run with no cached learners completes after one run (T17, E5)', async () => {
    const run = await w.addRun();
    // Enrollment only: not a candidate (spec 2.2).
    await w.addLearner(run, { cache: { grade: false } });
    const summary = await runFreezeJob(w.ctx(), run.key);
    expect(summary).toMatchObject({ status: 'complete', outcome: 'completed', eligible: 0, frozen: 0, remaining: 0 });
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(w.sims.edxorg.stats.requests).toBe(0);
  });

  it('only learners without a complete FinalGrade are queued; frozen ones count as eligible and frozen (T15)', async () => {
    const { run, learners } = await runWith(6, { grade: { percent: 0.6, passed: true } });
    for (const l of learners.slice(0, 4))
      await insertFinalGrade(w.db, l.id, run.id, { grade: 0.6, passed: false, status: 'complete', paid: true });
    const { events, seen } = recorder();
    const summary = await runFreezeJob(w.ctx(), run.key, { events });
    expect(seen['freeze:started'][0]).toMatchObject({ queued: 2 });
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(2);
    expect(summary).toMatchObject({ status: 'complete', eligible: 6, frozen: 6, frozenThisRun: 2, remaining: 0 });
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(6);
  });

  it('the started event counts already-frozen learners as eligible (spec 5b eligible includes frozen ones)', async () => {
    const { run, learners } = await runWith(3);
    await insertFinalGrade(w.db, learners[0].id, run.id, { grade: 0.8, passed: false, status: 'complete', paid: true });
    const { events, seen } = recorder();
    await runFreezeJob(w.ctx(), run.key, { events });
    expect(seen['freeze:started'][0]).toMatchObject({ queued: 2, eligible: 3, alreadyFrozen: 1, skippedFailed: 0 });
  });
});

describe('failures (spec 3.6, 5b) and the re-run semantics', () => {
  /** 3 healthy learners, one answered 500, one that times out, one whose token refresh is refused. */
  async function faultyRun() {
    const run = await w.addRun();
    const ok = await w.addLearners(run, 3, { grade: { percent: 0.9, passed: true } });
    const err = await w.addLearner(run, { username: `${run.key.split('+')[1]}-err` });
    const slow = await w.addLearner(run, { username: `${run.key.split('+')[1]}-slow` });
    const revoked = await w.addLearner(run, { username: `${run.key.split('+')[1]}-revoked`, token: 'needs-refresh' });
    w.sims.edxorg.knobs.faults.set(err.uid, 500);
    w.sims.edxorg.knobs.faults.set(slow.uid, 'timeout');
    w.sims.edxorg.knobs.unauthorizedUsers.add(revoked.uid);
    return { run, ok, err, slow, revoked };
  }

  it('failed learners keep the run pending and are listed with username and reason, in Redis and in the database', async () => {
    const { run, ok, err, slow, revoked } = await faultyRun();
    const { events, seen } = recorder();
    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 4, events });

    expect(summary).toMatchObject({
      status: 'pending',
      outcome: 'finished-with-failures',
      eligible: 6,
      frozen: 3,
      frozenThisRun: 3,
      remaining: 0,
    });
    expectCountsAddUp(summary);
    expect(summary.failed.map((f) => [f.username, f.reason]).sort()).toEqual(
      [
        [err.username, 'edx-error'],
        [revoked.username, 'invalid-credentials'],
        [slow.username, 'edx-timeout'],
      ].sort(),
    );
    expect(summary.failed.every((f) => f.message.length > 0)).toBe(true);
    expect(await gradingStatusOf(w.db, run.id)).toBe('pending');
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id).sort()).toEqual(ok.map((l) => l.id).sort());

    const list = await failedListOf(w.redis, run.key);
    expect(list.sort()).toEqual([err.id, slow.id, revoked.id].map(String).sort());
    expect(list.every((id) => /^\d+$/.test(id))).toBe(true);
    expect(await w.redis.type(`failed_users_${run.key}`)).toBe('list');
    const rows = await w.db('gradeops_freeze_failure').where('course_run_id', run.id).orderBy('user_id');
    expect(rows.every((r) => Number(r.freeze_run_id) === summary.freezeRunId)).toBe(true);
    expect(rows.map((r) => [r.user_id, r.reason])).toEqual(
      [
        [err.id, 'edx-error'],
        [slow.id, 'edx-timeout'],
        [revoked.id, 'invalid-credentials'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );

    expect(seen['freeze:user-failed'].map((e) => e.reason).sort()).toEqual(['edx-error', 'edx-timeout', 'invalid-credentials']);
    expect(seen['freeze:user-frozen']).toHaveLength(3);
    expect(seen['freeze:finished'][0].progress).toMatchObject({ queued: 6, frozen: 3, failed: 3, done: 6 });
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).first()).toMatchObject({
      outcome: 'finished',
      frozen: 3,
      failed: 3,
    });

    // Running again with only failed learners left completes the run and clears the list (T16).
    w.resetSimulators();
    const { events: events2, seen: seen2 } = recorder();
    const again = await runFreezeJob(w.ctx(), run.key, { events: events2 });
    expect(again).toMatchObject({ status: 'complete', outcome: 'completed', frozenThisRun: 0, frozen: 3, eligible: 6 });
    expectCountsAddUp(again);
    expect(w.sims.edxorg.stats.requests).toBe(0);
    expect(seen2['freeze:started']).toHaveLength(0);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(await w.redis.exists(`failed_users_${run.key}`)).toBe(0);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(3);
  });

  it('retryFailed retries the failed learners; once the faults are gone they are frozen and the run completes', async () => {
    const { run, err, slow, revoked } = await faultyRun();
    await runFreezeJob(w.ctx(), run.key);
    expect(await failedListOf(w.redis, run.key)).toHaveLength(3);

    // Still failing: retried, still failed, still pending.
    w.sims.edxorg.stats.reset();
    const stillFailing = await runFreezeJob(w.ctx(), run.key, { retryFailed: true });
    expect(stillFailing).toMatchObject({ status: 'pending', outcome: 'finished-with-failures', frozenThisRun: 0 });
    expect(stillFailing.failed).toHaveLength(3);
    expect(w.sims.edxorg.stats.requests).toBeGreaterThanOrEqual(3);

    w.resetSimulators();
    const { events, seen } = recorder();
    const retried = await runFreezeJob(w.ctx(), run.key, { retryFailed: true, events });
    expect(seen['freeze:started'][0]).toMatchObject({ queued: 3, skippedFailed: 0 });
    expect(retried).toMatchObject({
      status: 'complete',
      outcome: 'completed',
      frozenThisRun: 3,
      eligible: 6,
      frozen: 6,
      failed: [],
      remaining: 0,
    });
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id)).toEqual(expect.arrayContaining([err.id, slow.id, revoked.id]));
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
    expect(await w.db('gradeops_freeze_failure').where('course_run_id', run.id)).toHaveLength(0);
    // The refused token was refreshed this time and written back.
    const social = await w.db('social_auth_usersocialauth').where('user_id', revoked.id).first();
    expect(social.extra_data.access_token).not.toBe(revoked.accessToken);
    expect(typeof social.extra_data.updated_at).toBe('number');
  });

  it('a plain re-run skips failed learners while others remain, and says so (spec 5b: re-runs skip failed learners)', async () => {
    const run = await w.addRun();
    const [a, b] = await w.addLearners(run, 2);
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    w.sims.edxorg.knobs.faults.set(b.uid, 500);
    await runFreezeJob(w.ctx(), run.key);
    // A new learner shows up; the failed ones are not retried without --retry-failed.
    const c = await w.addLearner(run);
    w.resetSimulators();
    const { events, seen } = recorder();
    const summary = await runFreezeJob(w.ctx(), run.key, { events });
    expect(seen['freeze:started'][0]).toMatchObject({ queued: 1, skippedFailed: 2 });
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(1);
    expect(summary).toMatchObject({ status: 'pending', outcome: 'finished-with-failures', frozen: 1 });
    expect(summary.failed.map((f) => f.userId).sort()).toEqual([a.id, b.id].sort());
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id)).toEqual([c.id]);
  });

  it('a conflicting pending FinalGrade fails with reason conflict, stays untouched, and the next run completes (E8 fixed)', async () => {
    const run = await w.addRun();
    const [a, b] = await w.addLearners(run, 2, { grade: { percent: 0.75, passed: true } });
    await insertFinalGrade(w.db, a.id, run.id, { grade: 0.1, passed: false, status: 'pending', at: new Date('2024-06-01T00:00:00Z') });
    const pendingRow = (await finalGradesOf(w.db, run.id))[0];
    const first = await runFreezeJob(w.ctx(), run.key);
    expect(first).toMatchObject({ status: 'pending', frozen: 1, eligible: 2, remaining: 0 });
    expect(first.failed).toEqual([expect.objectContaining({ userId: a.id, username: a.username, reason: 'conflict' })]);
    expect((await finalGradesOf(w.db, run.id)).find((r) => r.user_id === a.id)).toEqual(pendingRow);
    expect((await finalGradesOf(w.db, run.id)).find((r) => r.user_id === b.id)).toMatchObject({ status: 'complete', grade: 0.75 });
    const second = await runFreezeJob(w.ctx(), run.key);
    expect(second).toMatchObject({ status: 'complete', outcome: 'completed' });
    expect((await finalGradesOf(w.db, run.id)).find((r) => r.user_id === a.id)).toEqual(pendingRow);
  });

  it('401 on the grade calls with a still-valid token keeps the learner eligible and on the failed list', async () => {
    const run = await w.addRun();
    const [locked] = await w.addLearners(run, 1);
    await w.addLearners(run, 1);
    w.sims.edxorg.knobs.unauthorizedUsers.add(locked.uid);
    const { events, seen } = recorder();
    const summary = await runFreezeJob(w.ctx(), run.key, { events });
    expect(seen['freeze:user-failed']).toEqual([expect.objectContaining({ userId: locked.id, reason: 'invalid-credentials' })]);
    expect(w.sims.edxorg.stats.byEndpoint['token-refresh']).toBe(0);
    // Unlike the reference (spec 3.6 skips every 4xx), the cached grade is kept, so the run does
    // not complete behind the learner's back.
    expect(await w.db('dashboard_cachedcurrentgrade').where({ user_id: locked.id, course_run_id: run.id })).toHaveLength(1);
    expect(summary).toMatchObject({ status: 'pending', eligible: 2, frozen: 1 });
    expect(summary.failed).toEqual([expect.objectContaining({ userId: locked.id, reason: 'invalid-credentials' })]);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(1);
  });

  it('invalid edX data (passed null) fails with invalid-edx-data and does not block completion', async () => {
    const run = await w.addRun({ exam: true });
    const [bad] = await w.addLearners(run, 1, { grade: { percent: 0.7, passed: null } });
    await w.addLearners(run, 2, { grade: { percent: 0.7, passed: true } });
    const first = await runFreezeJob(w.ctx(), run.key);
    expect(first.failed).toEqual([expect.objectContaining({ userId: bad.id, reason: 'invalid-edx-data' })]);
    expect((await runFreezeJob(w.ctx(), run.key)).status).toBe('complete');
  });

  it('MicroMasters ids on failed_users_{key} are skipped like ours and the run completes when only they are left', async () => {
    const run = await w.addRun();
    const [a, b, c] = await w.addLearners(run, 3);
    // MicroMasters pushed b twice and someone unknown once.
    await w.redis.lpush(`failed_users_${run.key}`, String(b.id), String(b.id), '987654321');
    const first = await runFreezeJob(w.ctx(), run.key);
    expect(first).toMatchObject({ status: 'pending', frozen: 2, eligible: 3, remaining: 0 });
    expect(first.failed).toEqual([expect.objectContaining({ userId: b.id, reason: 'reported-by-micromasters' })]);
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id).sort()).toEqual([a.id, c.id].sort());
    const second = await runFreezeJob(w.ctx(), run.key);
    expect(second.status).toBe('complete');
    expect(await w.redis.exists(`failed_users_${run.key}`)).toBe(0);
  });

  it('warns when a MicroMasters task group key exists, and leaves it alone', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 1);
    const groupKey = `:1:freeze_grade_${run.key}`;
    await w.redis.set(groupKey, Buffer.from([0x78, 0x9c, 0x01, 0x02]));
    const { events, seen } = recorder();
    await runFreezeJob(w.ctx(), run.key, { events });
    expect(seen['freeze:warning'].map((e) => e.message).join(' ')).toContain(groupKey);
    expect(await w.redis.getBuffer(groupKey)).toEqual(Buffer.from([0x78, 0x9c, 0x01, 0x02]));
  });
});

describe('listeners cannot break the job (issue #12 §4)', () => {
  it('a throwing progress listener is reported once as a warning; everyone is frozen and the run record is closed', async () => {
    const { run, learners } = await runWith(4);
    const { events, seen } = recorder();
    events.on('freeze:user-frozen', () => {
      throw new Error('view exploded');
    });
    events.on('freeze:progress', () => {
      throw new Error('bar exploded');
    });
    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 2, events });

    expect(summary).toMatchObject({ status: 'complete', outcome: 'completed', frozen: learners.length, failed: [] });
    const warnings = seen['freeze:warning'].map((x) => x.message);
    expect(warnings.filter((m) => m.includes('freeze:user-frozen listener failed') && m.includes('view exploded'))).toHaveLength(1);
    expect(warnings.filter((m) => m.includes('freeze:progress listener failed') && m.includes('bar exploded'))).toHaveLength(1);
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).pluck('outcome')).toEqual(['finished']);
  });
});

describe('one job per run', () => {
  it('a second start while the first holds the lock is refused naming operator and host; exactly one runs', async () => {
    const { run, learners } = await runWith(4);
    w.sims.edxorg.knobs.latencyMs = 40;
    const { events, seen } = recorder();
    const started = new Promise<void>((resolve) => events.once('freeze:started', () => resolve()));
    const first = runFreezeJob(w.ctx({ operator: 'ops-alice' }), run.key, { concurrency: 1, events });
    await started;

    const refused = await opsErrorOf(runFreezeJob(w.ctx({ operator: 'ops-bob' }), run.key, { concurrency: 4 }));
    expect(refused.code).toBe('freeze-running');
    expect(refused.message).toContain('ops-alice');
    expect(refused.message).toContain(os.hostname());

    // Watchers see it running; complete and revert refuse while it runs.
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({
      running: true,
      status: 'pending',
      job: expect.objectContaining({ operator: 'ops-alice', host: os.hostname(), pid: process.pid }),
    });
    expectCountsAddUp(status);
    expect((await opsErrorOf(completeFreeze(w.ctx(), run.key))).code).toBe('freeze-running');
    expect((await opsErrorOf(revertFreeze(w.ctx(), run.key, { confirm: run.key }))).code).toBe('freeze-running');

    const summary = await first;
    expect(summary).toMatchObject({ status: 'complete', frozenThisRun: 4 });
    expect(seen['freeze:user-frozen']).toHaveLength(4);
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.user_id).sort()).toEqual(learners.map((l) => l.id).sort());
    expect(await auditCount(run.id, 'freeze-user')).toBe(4);
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id)).toHaveLength(1);
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(4);
    expect((await getFreezeStatus(w.ctx(), run.key)).running).toBe(false);
  });

  it('two jobs started at the same instant: one refuses, one freezes everyone once', async () => {
    const { run } = await runWith(3);
    w.sims.edxorg.knobs.latencyMs = 20;
    const results = await Promise.allSettled([
      runFreezeJob(w.ctx({ operator: 'a' }), run.key),
      runFreezeJob(w.ctx({ operator: 'b' }), run.key),
    ]);
    const ok = results.filter((r): r is PromiseFulfilledResult<FreezeJobSummary> => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0].reason.code).toBe('freeze-running');
    expect(ok[0].value).toMatchObject({ status: 'complete', frozenThisRun: 3 });
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(3);
  });

  it('a live holder on another host is respected until its lock expires, then the lock is taken over', async () => {
    const { run } = await runWith(1);
    await w.redis.set(
      lockKey(run.key),
      JSON.stringify({ token: 't', operator: 'ops-remote', host: 'other-host.example', pid: 1, startedOn: new Date().toISOString() }),
      'PX',
      400,
    );
    const error = await opsErrorOf(runFreezeJob(w.ctx(), run.key));
    expect(error.code).toBe('freeze-running');
    expect(error.message).toContain('ops-remote');
    expect(error.message).toContain('other-host.example');
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect((await getFreezeStatus(w.ctx(), run.key)).running).toBe(true);

    // The remote holder stopped extending it: once it expires, the next freeze takes the lock.
    while ((await w.redis.pttl(lockKey(run.key))) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const summary = await runFreezeJob(w.ctx({ operator: 'ops-local' }), run.key);
    expect(summary).toMatchObject({ status: 'complete', frozenThisRun: 1 });
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).pluck('operator')).toEqual(['ops-local']);
    expect(await w.redis.exists(lockKey(run.key))).toBe(0);
  });

  it('a lock left by a killed process on this host (kill -9) is taken over by the next run', async () => {
    const { run } = await runWith(3);
    const deadPid = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('error', reject);
      child.on('exit', () => resolve(child.pid!));
    });
    const stale = JSON.stringify({
      token: 'dead',
      operator: 'ops-ghost',
      host: os.hostname(),
      pid: deadPid,
      startedOn: new Date(Date.now() - 60_000).toISOString(),
    });
    await w.redis.set(lockKey(run.key), stale, 'PX', 30_000);
    // The dead process also left its job record "running".
    await w.db('gradeops_freeze_run').insert({
      course_run_id: run.id,
      course_key: run.key,
      operator: 'ops-ghost',
      host: os.hostname(),
      pid: deadPid,
      started_on: new Date(Date.now() - 60_000),
      outcome: 'running',
      concurrency: 8,
      queued: 3,
    });
    expect((await getFreezeStatus(w.ctx(), run.key)).running).toBe(false);

    const summary = await runFreezeJob(w.ctx(), run.key);
    expect(summary).toMatchObject({ status: 'complete', frozenThisRun: 3 });
    expect(await w.redis.exists(lockKey(run.key))).toBe(0);
    const jobs = await w.db('gradeops_freeze_run').where('course_run_id', run.id).orderBy('id');
    expect(jobs.map((j) => j.outcome)).toEqual(['crashed', 'finished']);
  });
});

describe('the freeze lock itself', () => {
  it('is kept alive by its holder past its expiry, and released only by its owner', async () => {
    const key = 'course-v1:MITx+LockTest+1T2024';
    const lock = await acquireFreezeLock(w.redis, key, 'ops-ivy', 150);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(JSON.parse((await w.redis.get(lockKey(key)))!)).toMatchObject({ operator: 'ops-ivy', token: lock.owner.token });
    expect((await opsErrorOf(acquireFreezeLock(w.redis, key, 'ops-jo'))).code).toBe('freeze-running');
    await lock.release();
    expect(await w.redis.exists(lockKey(key))).toBe(0);
    // A late release after someone else took the lock leaves theirs alone.
    const next = await acquireFreezeLock(w.redis, key, 'ops-jo', 5_000);
    await lock.release();
    expect(JSON.parse((await w.redis.get(lockKey(key)))!)).toMatchObject({ operator: 'ops-jo' });
    await next.release();
  });
});

describe('interruption', () => {
  it('abort mid-run: interrupted, still pending, no duplicates; a re-run freezes everyone exactly once', async () => {
    const { run, learners } = await runWith(8);
    w.sims.edxorg.knobs.latencyMs = 15;
    const controller = new AbortController();
    const { events, seen } = recorder();
    events.on('freeze:user-frozen', () => {
      if (seen['freeze:user-frozen'].length === 2) controller.abort();
    });
    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 2, signal: controller.signal, events });

    expect(summary.outcome).toBe('interrupted');
    expect(summary.status).toBe('pending');
    expect(summary.frozenThisRun).toBeGreaterThanOrEqual(2);
    expect(summary.frozenThisRun).toBeLessThan(8);
    expect(await gradingStatusOf(w.db, run.id)).toBe('pending');
    const partial = await finalGradesOf(w.db, run.id);
    expect(partial).toHaveLength(summary.frozenThisRun);
    expect(summary).toMatchObject({ eligible: 8, frozen: partial.length, remaining: 8 - partial.length, failed: [] });
    expect(seen['freeze:finished'][0]).toMatchObject({
      outcome: 'interrupted',
      progress: expect.objectContaining({ state: 'interrupted', frozen: partial.length }),
    });
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).first()).toMatchObject({ outcome: 'interrupted' });
    expect(await w.redis.exists(lockKey(run.key))).toBe(0);

    w.sims.edxorg.stats.reset();
    const rest = await runFreezeJob(w.ctx(), run.key, { concurrency: 2 });
    expect(rest).toMatchObject({ status: 'complete', outcome: 'completed', frozenThisRun: 8 - partial.length, frozen: 8 });
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(8 - partial.length);
    const all = await finalGradesOf(w.db, run.id);
    expect(all.map((r) => r.user_id).sort()).toEqual(learners.map((l) => l.id).sort());
    expect(all.slice(0, partial.length)).toEqual(partial);
    expect(await auditCount(run.id, 'freeze-user')).toBe(8);
  });

  it('abort while the backlog is throttled (concurrency 1, many learners) still stops promptly', async () => {
    const { run } = await runWith(12);
    w.sims.edxorg.knobs.latencyMs = 10;
    const controller = new AbortController();
    const { events, seen } = recorder();
    events.on('freeze:user-frozen', () => {
      if (seen['freeze:user-frozen'].length === 1) controller.abort();
    });
    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 1, signal: controller.signal, events });
    expect(summary.outcome).toBe('interrupted');
    // Those in flight finish: the learner whose event aborted, one in the edX slot and one handed
    // to the writer (concurrency 1 each) — never the 9 still queued.
    expect(summary.frozenThisRun).toBeLessThanOrEqual(3);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(summary.frozenThisRun);
    const rest = await runFreezeJob(w.ctx(), run.key, { concurrency: 4 });
    expect(rest).toMatchObject({ status: 'complete', frozen: 12, frozenThisRun: 12 - summary.frozenThisRun });
  });

  it('an already-aborted signal freezes nobody and leaves the run pending', async () => {
    const { run } = await runWith(2);
    const controller = new AbortController();
    controller.abort();
    const summary = await runFreezeJob(w.ctx(), run.key, { signal: controller.signal });
    expect(summary).toMatchObject({ outcome: 'interrupted', status: 'pending', frozenThisRun: 0 });
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect(w.sims.edxorg.stats.requests).toBe(0);
  });
});

describe('edX unreachable (brief: "edX down" is one clear error and loses nothing)', () => {
  it('stops the job with one error naming the setting, puts nobody on the failed list, and the next run resumes', async () => {
    const { run } = await runWith(6);
    const down = w.ctx({ edx: { ...w.settings, baseUrls: { ...w.settings.baseUrls, edxorg: await refusedUrl('http') } } });
    const error = await opsErrorOf(runFreezeJob(down, run.key, { concurrency: 2 }));
    expect(error.code).toBe('edx-unreachable');
    expect(error.message).toMatch(/cannot reach edX .*no learner was put on the failed list/);
    expect(error.hint).toMatch(/EDXORG_CALLBACK_URL.*run freeze again/);
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect(status).toMatchObject({ status: 'pending', frozen: 0, remaining: 6, running: false });
    expect(status.failed).toHaveLength(0);
    expect(await w.db('gradeops_freeze_run').where({ course_run_id: run.id }).pluck('outcome')).toEqual(['interrupted']);

    // Had the learners gone on the failed list, this re-run would complete the run without them.
    const summary = await runFreezeJob(w.ctx(), run.key, { concurrency: 2 });
    expect(summary).toMatchObject({ outcome: 'completed', status: 'complete', frozen: 6, frozenThisRun: 6 });
    expect(summary.failed).toHaveLength(0);
  });

  it('freezing one learner throws the same error and records no failure', async () => {
    const { run, learners } = await runWith(1);
    const down = w.ctx({ edx: { ...w.settings, baseUrls: { ...w.settings.baseUrls, edxorg: await refusedUrl('http') } } });
    const error = await opsErrorOf(freezeOneUser(down, learners[0].username, run.key));
    expect(error.code).toBe('edx-unreachable');
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
    expect(await w.db('gradeops_freeze_failure').where({ course_run_id: run.id })).toHaveLength(0);
  });
});

describe('stored tokens across the runs of one learner (spec 2.3 step 2)', () => {
  it('two runs of the same learners frozen in sequence: one token refresh per learner whose token was due, saved and used', async () => {
    // More learners than the job reads refresh inputs for at a time, so the second slice is read
    // after the first slice's tokens were refreshed.
    const first = await w.addRun();
    const second = await w.addRun();
    const learners = await w.addLearners(first, 130, (i) => ({
      grade: { percent: 0.8, passed: true },
      token: i % 2 === 0 ? 'needs-refresh' : 'fresh',
    }));
    for (const l of learners) await w.enrollLearner(l, second, { grade: { percent: 0.7, passed: true } });
    const due = learners.filter((_, i) => i % 2 === 0);

    expect(await runFreezeJob(w.ctx(), first.key)).toMatchObject({ status: 'complete', frozenThisRun: 130 });
    const afterFirst = w.sims.edxorg.stats.byEndpoint['token-refresh'];
    expect(await runFreezeJob(w.ctx(), second.key)).toMatchObject({ status: 'complete', frozenThisRun: 130 });
    expect(w.sims.edxorg.stats.byEndpoint['token-refresh']).toBe(due.length);
    expect(afterFirst).toBe(due.length);

    const saved = new Map<number, Record<string, unknown>>(
      (
        await w
          .db('social_auth_usersocialauth')
          .whereIn(
            'user_id',
            learners.map((l) => l.id),
          )
          .select('user_id', 'extra_data')
      ).map((r: { user_id: number; extra_data: Record<string, unknown> }) => [r.user_id, r.extra_data]),
    );
    // Only whether tokens match is reported, never a token.
    const renewed = due.filter((l) => saved.get(l.id)!.access_token !== l.accessToken && typeof saved.get(l.id)!.updated_at === 'number');
    expect(renewed.length).toBe(due.length);
    const kept = learners.filter((l, i) => i % 2 === 1 && saved.get(l.id)!.access_token === l.accessToken);
    expect(kept.length).toBe(learners.length - due.length);
    // The second run's grade calls went out with the saved tokens.
    const bearers = new Set(
      w.sims.edxorg.stats.recent.filter((r) => r.endpoint === 'current-grade' && r.url.includes(second.key)).map((r) => r.bearer),
    );
    expect(bearers.size).toBeGreaterThan(0);
    expect(due.filter((l) => bearers.has(l.accessToken)).length).toBe(0);
  }, 60_000);
});
