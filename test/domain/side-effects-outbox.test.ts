import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freezeOneUser } from '../../src/domain/final-grades/freeze-user.js';
import { resyncFinalGrade } from '../../src/domain/final-grades/resync.js';
import { FreezeEmitter } from '../../src/domain/freeze/freeze-events.js';
import { runFreezeJob } from '../helpers/freeze-mode.js';
import { getFreezeStatus } from '../../src/domain/freeze/freeze-status.js';
import { createTestWorld, failedListOf, finalGradesOf, opsErrorOf, type TestRun, type TestWorld } from '../helpers/world.js';

// Issue 12 §3: FinalGrade side effects (spec 2.8) survive a crash through the outbox, run exactly
// once, and a frozen learner is never also recorded as failed. §5: a lost lock stops the job.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld({ timeoutMs: 1_000 });
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

/** A run of a course with an exam run released 20 days ago, so a passed FinalGrade gets a combined grade. */
async function examRun(): Promise<{ run: TestRun; courseId: number; examRunId: number }> {
  const courseId = await w.addCourse();
  const examRunId = await w.addExamRun(courseId);
  const run = await w.addRun({ courseId });
  return { run, courseId, examRunId };
}

const combinedAudits = (userId: number) =>
  w
    .db('grades_combinedfinalgradeaudit as a')
    .join('grades_combinedfinalgrade as c', 'c.id', 'a.combined_final_grade_id')
    .where('c.user_id', userId);
const dueRows = (runId: number) => w.db('gradeops_side_effects_due').where('course_run_id', runId);

class Crash extends Error {}

describe('side effects due after a crash (issue 12 §3)', () => {
  it('the FinalGrade and its due row commit together; a crash before the effects leaves the row; the next freeze finishes it exactly once', async () => {
    const { run, courseId, examRunId } = await examRun();
    const learners = await w.addLearners(run, 3, { grade: { percent: 0.8, passed: true } });
    for (const l of learners) await w.addExamGrade(l.id, courseId, examRunId, { score: 80 });
    // The process "dies" right after the second commit: that learner's effects never run.
    let commits = 0;
    const crashing = w.ctx({
      testFaults: {
        async afterFinalGradeCommit() {
          commits += 1;
          if (commits === 2) throw new Crash('killed between the commit and the side effects');
        },
      },
    });
    const first = await runFreezeJob(crashing, run.key, { concurrency: 1 });
    // The learner whose effects were cut off is frozen, not failed.
    expect(first).toMatchObject({ frozen: 3, failed: [], status: 'complete', sideEffects: { due: 1 } });
    const [left] = await dueRows(run.id);
    expect(left).toMatchObject({ course_key: run.key, created: true, source: 'freeze', attempts: 0 });
    const cutOff = learners.find((l) => l.id === left.user_id)!;
    expect(await w.db('grades_combinedfinalgrade').where({ user_id: cutOff.id })).toHaveLength(0);
    expect(await w.db('gradeops_freeze_failure').where({ course_run_id: run.id })).toHaveLength(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([]);

    // The run is complete, so a freeze does nothing; freeze-user of anyone on the run finishes it.
    await freezeOneUser(w.ctx(), learners[0].username, run.key);
    expect(await dueRows(run.id)).toHaveLength(0);
    // spec 2.11 worked value: (0.8, 80) → 80.0; exactly one combined grade write per learner.
    for (const l of learners) {
      expect(await w.db('grades_combinedfinalgrade').where({ user_id: l.id, course_id: courseId }).pluck('grade')).toEqual([80]);
      expect(await combinedAudits(l.id)).toHaveLength(1);
    }
  });

  it('a due row whose effects already wrote before the crash is cleared without writing them again', async () => {
    const { run, courseId, examRunId } = await examRun();
    const [a, b] = await w.addLearners(run, 2, { grade: { percent: 0.57, passed: true } });
    await w.addExamGrade(a.id, courseId, examRunId, { score: 62.5 });
    await freezeOneUser(w.ctx(), a.username, run.key);
    const [audit] = await w.db('gradeops_audit_log').where({ user_id: a.id, action: 'combined-final-grade' });
    expect(audit.side_effects_due_id).not.toBeNull();
    // The crash came after the effects and before the row was deleted: put the row back as it was.
    const [fg] = await finalGradesOf(w.db, run.id);
    await w.db('gradeops_side_effects_due').insert({
      id: audit.side_effects_due_id,
      final_grade_id: fg.id,
      user_id: a.id,
      course_run_id: run.id,
      course_key: run.key,
      username: a.username,
      created: true,
      source: 'freeze-user',
      operator: 'test-operator',
      due_on: new Date(),
    });

    const result = await freezeOneUser(w.ctx(), b.username, run.key);
    expect(result.outcome).toBe('frozen');
    expect(await dueRows(run.id)).toHaveLength(0);
    // spec 2.11 worked value (0.57, 62.5) → 60.3, written once.
    expect(await w.db('grades_combinedfinalgrade').where({ user_id: a.id }).pluck('grade')).toEqual([60.3]);
    expect(await combinedAudits(a.id)).toHaveLength(1);
    expect(await w.db('gradeops_audit_log').where({ user_id: a.id, action: 'combined-final-grade' })).toHaveLength(1);
  });

  it('a resync that finds nothing to change still finishes the side effects its run has due', async () => {
    const { run, courseId, examRunId } = await examRun();
    const [a] = await w.addLearners(run, 1, { grade: { percent: 0.65, passed: true } });
    await w.addExamGrade(a.id, courseId, examRunId, { score: 70.25 });
    const crashing = w.ctx({
      testFaults: {
        async afterFinalGradeCommit() {
          throw new Crash('killed');
        },
      },
    });
    await expect(freezeOneUser(crashing, a.username, run.key)).rejects.toBeInstanceOf(Crash);
    expect(await dueRows(run.id)).toHaveLength(1);

    const r = await resyncFinalGrade(w.ctx(), a.username, run.key, { apply: true });
    expect(r.changes).toEqual([]);
    expect(await dueRows(run.id)).toHaveLength(0);
    // spec 2.11 worked value (0.65, 70.25) → 68.2.
    expect(await w.db('grades_combinedfinalgrade').where({ user_id: a.id }).pluck('grade')).toEqual([68.2]);
  });

  it('a side effect that fails stays due with its error, and is retried by the next freeze of the run', async () => {
    const { run, courseId, examRunId } = await examRun();
    const [a, b] = await w.addLearners(run, 2, { grade: { percent: 0.8, passed: true } });
    await w.addExamGrade(a.id, courseId, examRunId, { score: 80 });
    await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit RENAME TO grades_combinedfinalgradeaudit_away');
    try {
      const result = await freezeOneUser(w.ctx(), a.username, run.key);
      expect(result.outcome).toBe('frozen');
    } finally {
      await w.db.raw('ALTER TABLE grades_combinedfinalgradeaudit_away RENAME TO grades_combinedfinalgradeaudit');
    }
    expect(await dueRows(run.id)).toEqual([
      expect.objectContaining({ user_id: a.id, attempts: 1, last_error: expect.stringContaining('combined-final-grade') }),
    ]);
    const summary = await runFreezeJob(w.ctx(), run.key);
    expect(summary).toMatchObject({ status: 'complete', frozen: 2, sideEffects: { finishedLeftover: 1, due: 0 } });
    expect(await w.db('grades_combinedfinalgrade').where({ user_id: a.id }).pluck('grade')).toEqual([80]);
    void b;
  });
});

/** The same Redis, except that what `fail` names rejects. */
function failingRedis(redis: Redis, fail: (command: string) => boolean): Redis {
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property === 'string' && typeof value === 'function') {
        return (...args: unknown[]) =>
          fail(property)
            ? Promise.reject(new Error(`Redis ${property} failed`))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      }
      return value;
    },
  });
}

describe('a frozen learner is never also failed (issue 12 §3)', () => {
  it('a Redis error while clearing the failed list after the commit: frozen, side effects done, a warning, not failed', async () => {
    const { run, courseId, examRunId } = await examRun();
    const [a, b] = await w.addLearners(run, 2, { grade: { percent: 0.8, passed: true } });
    await w.addExamGrade(a.id, courseId, examRunId, { score: 80 });
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    w.sims.edxorg.knobs.faults.set(b.uid, 500);
    await runFreezeJob(w.ctx(), run.key);
    expect((await failedListOf(w.redis, run.key)).sort()).toEqual([String(a.id), String(b.id)].sort());
    w.sims.edxorg.knobs.faults.delete(a.uid); // edX is fixed for a; b still fails, so the run stays pending

    const events = new FreezeEmitter();
    const seen: { frozen: number[]; failed: number[]; warnings: string[] } = { frozen: [], failed: [], warnings: [] };
    events.on('freeze:user-frozen', (e) => seen.frozen.push(e.userId));
    events.on('freeze:user-failed', (e) => seen.failed.push(e.userId));
    events.on('freeze:warning', (e) => seen.warnings.push(e.message));
    const ctx = w.ctx({ redis: failingRedis(w.redis, (command) => command === 'lrem') });
    const summary = await runFreezeJob(ctx, run.key, { retryFailed: true, events });

    expect(seen).toMatchObject({ frozen: [a.id], failed: [b.id] });
    expect(seen.warnings).toEqual([expect.stringContaining('removing them from the failed list failed')]);
    expect(summary.failed.map((f) => f.userId)).toEqual([b.id]);
    expect(summary).toMatchObject({ frozen: 1, eligible: 2, remaining: 0, dropped: [] });
    expect(await w.db('gradeops_freeze_failure').where({ course_run_id: run.id }).pluck('user_id')).toEqual([b.id]);
    // spec 2.11 worked value (0.8, 80) → 80.0: the side effects ran before the list was touched.
    expect(await w.db('grades_combinedfinalgrade').where({ user_id: a.id }).pluck('grade')).toEqual([80]);
    // a's id is still on the list, but a frozen learner counts as frozen.
    expect(await failedListOf(w.redis, run.key)).toContain(String(a.id));
    expect(await getFreezeStatus(w.ctx(), run.key)).toMatchObject({
      frozen: 1,
      failed: [expect.objectContaining({ userId: b.id })],
      dropped: [],
      remaining: 0,
    });
  });
});

describe('a lost lock stops the job (issue 12 §5)', () => {
  it('the lock taken by another holder mid-run: no new learners, the run record closed as lost-lock, the new holder left alone', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 12);
    w.sims.edxorg.knobs.latencyMs = 30;
    const lockKey = `gradeops:freeze:lock:${run.key}`;
    const thief = JSON.stringify({
      token: 'thief',
      operator: 'ops-other',
      host: 'other-host',
      pid: 7,
      startedOn: new Date().toISOString(),
    });
    const events = new FreezeEmitter();
    let frozen = 0;
    events.on('freeze:user-frozen', () => {
      frozen += 1;
      if (frozen === 2) w.redis.set(lockKey, thief, 'PX', 60_000).catch(() => {});
    });
    const ctx = w.ctx({ testFaults: { freezeLockTtlMs: 300 } });
    const error = await opsErrorOf(runFreezeJob(ctx, run.key, { concurrency: 1, events }));

    expect(error.code).toBe('lost-lock');
    expect(error.message).toContain('ops-other on other-host');
    expect(error.line.split('\n')).toHaveLength(1);
    const written = await finalGradesOf(w.db, run.id);
    expect(written.length).toBeGreaterThanOrEqual(2);
    expect(written.length).toBeLessThan(12);
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).pluck('outcome')).toEqual(['lost-lock']);
    expect(await w.redis.get(lockKey)).toBe(thief);
    expect(await w.db('grades_courserungradingstatus').where('course_run_id', run.id).pluck('status')).toEqual(['pending']);
  });

  it('Redis failing for longer than the lock expiry counts as a lost lock', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 12);
    w.sims.edxorg.knobs.latencyMs = 30;
    let down = false;
    const events = new FreezeEmitter();
    events.on('freeze:user-frozen', () => {
      down = true;
    });
    const ctx = w.ctx({ redis: failingRedis(w.redis, (command) => down && command === 'eval'), testFaults: { freezeLockTtlMs: 300 } });
    const error = await opsErrorOf(runFreezeJob(ctx, run.key, { concurrency: 1, events }));
    expect(error.code).toBe('lost-lock');
    expect(error.message).toContain('has not confirmed the freeze lock');
    expect((await finalGradesOf(w.db, run.id)).length).toBeLessThan(12);
    expect(await w.db('gradeops_freeze_run').where('course_run_id', run.id).pluck('outcome')).toEqual(['lost-lock']);
  });
});
