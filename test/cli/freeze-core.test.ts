import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { startTestEdx, withWorldRedis } from '../helpers/cli-edx.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';

// Issue 6 end to end (the failed list is the truth, dropped learners) and issue 12 §3 and §6 end
// to end (a kill between the FinalGrade commit and its side effects; Ctrl-C), through the CLI as
// a script runs it, embedded or on PostgreSQL + Redis.

let world: CliWorld;
let keys: string[];
beforeAll(async () => {
  world = await cliWorld();
  const runs = JSON.parse((await runCli(['runs', '--json'], world.env)).stdout).runs as Array<{
    courseKey: string;
    canFreeze: boolean;
    gradingStatus: string;
    backend: string;
  }>;
  keys = runs.filter((r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg').map((r) => r.courseKey);
  expect(keys.length).toBeGreaterThanOrEqual(7);
}, 120_000);
afterAll(() => world.close());

async function withDb<T>(work: (db: ReturnType<CliWorld['openDb']>) => Promise<T>): Promise<T> {
  const db = world.openDb();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Learners of a run with a cached enrollment and current grade (the run's eligible ones), by username. */
const eligibleOf = (key: string) =>
  withDb(async (db) =>
    db('dashboard_cachedenrollment as e')
      .join('dashboard_cachedcurrentgrade as g', function () {
        this.on('g.user_id', 'e.user_id').andOn('g.course_run_id', 'e.course_run_id');
      })
      .join('courses_courserun as r', 'r.id', 'e.course_run_id')
      .join('auth_user as u', 'u.id', 'e.user_id')
      .join('social_auth_usersocialauth as s', function () {
        this.on('s.user_id', 'u.id').andOn('s.provider', 'r.courseware_backend');
      })
      .where('r.edx_course_key', key)
      .orderBy('u.id')
      .select<Array<{ id: number; username: string; uid: string }>>('u.id', 'u.username', 's.uid'),
  );

const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('issue 6 through the CLI', () => {
  it('a manual revert (rows deleted, list DEL-ed by hand), then a re-run retries the learners who failed and freezes them', async () => {
    const key = keys[0];
    const learners = await eligibleOf(key);
    const [a, b] = learners.slice(-2);
    const edx = await startTestEdx(world);
    try {
      edx.edxorg.knobs.faults.set(a.uid, 500);
      edx.edxorg.knobs.faults.set(b.uid, 500);
      const first = json(await runCli(['freeze', key, '--json'], edx.env));
      expect(first.failed.map((f: { username: string }) => f.username)).toEqual(expect.arrayContaining([a.username, b.username]));

      // The runbook's revert, by hand (grades/README.md), as an operator outside gradeops does it.
      await withDb(async (db) => {
        const runId = (await db('courses_courserun').where('edx_course_key', key).first('id')).id;
        await db('grades_finalgrade').where('course_run_id', runId).del();
        await db('grades_courserungradingstatus').where('course_run_id', runId).del();
      });
      await withWorldRedis(world, (redis) => redis.del(`failed_users_${key}`));
      edx.edxorg.knobs.faults.clear(); // edX fixed

      const status = json(await runCli(['freeze-status', key, '--json'], edx.env));
      expect(status).toMatchObject({ status: 'not_started', frozen: 0, failedCount: 0, failed: [], dropped: [] });
      const again = await runCli(['freeze', key, '--json'], edx.env);
      expect(again.code, again.stderr).toBe(0);
      const summary = json(again);
      expect(summary.failed.map((f: { username: string }) => f.username)).not.toContain(a.username);
      expect(summary.failed.map((f: { username: string }) => f.username)).not.toContain(b.username);
      const frozen = await withDb((db) =>
        db('grades_finalgrade as f')
          .join('courses_courserun as r', 'r.id', 'f.course_run_id')
          .where('r.edx_course_key', key)
          .pluck('f.user_id'),
      );
      expect(frozen).toEqual(expect.arrayContaining([a.id, b.id]));
    } finally {
      await edx.close();
    }
  });

  it('a learner whose grade call answers 404 is named as dropped, with a reason, in the summary and in freeze-status', async () => {
    const key = keys[1];
    const learners = await eligibleOf(key);
    const gone = learners[learners.length - 1];
    const edx = await startTestEdx(world);
    try {
      edx.edxorg.world.enrollments.get(gone.uid)!.delete(key); // edX: user_not_enrolled (404)
      const res = await runCli(['freeze', key, '--json'], edx.env);
      expect(res.code, res.stderr).toBe(0);
      const summary = json(res);
      expect(summary.dropped).toEqual([
        {
          userId: gone.id,
          username: gone.username,
          reason: 'no-current-grade',
          message: expect.stringContaining('edX no longer reports a current grade'),
        },
      ]);
      expect(summary.frozen + summary.failed.length + summary.remaining).toBe(summary.eligible);

      const status = json(await runCli(['freeze-status', key, '--json'], edx.env));
      expect(status.dropped).toEqual(summary.dropped);
      const text = await runCli(['freeze-status', key], edx.env);
      const lines = text.stdout.split('\n');
      const heading = lines.findIndex((l) => l.startsWith('Dropped'));
      expect(heading).toBeGreaterThan(0);
      expect(lines.slice(heading).join('\n')).toContain(gone.username);
      expect(lines.slice(heading).join('\n')).toContain('no-current-grade');
    } finally {
      await edx.close();
    }
  });
});

describe('issue 12 §3 through the CLI: killed between the FinalGrade commit and its side effects', () => {
  it('the re-run finishes the side effects left due, each exactly once', async () => {
    const key = keys[2];
    // Released passing exam grades for everyone, so each passed FinalGrade gets a combined grade (spec 2.11).
    const since = await withDb(async (db) => {
      const run = await db('courses_courserun').where('edx_course_key', key).first('id', 'course_id');
      const [examRun] = await db('exams_examrun').where('course_id', run.course_id).orderBy('id').pluck('id');
      expect(examRun).toBeDefined();
      await db('exams_examrun')
        .where('id', examRun)
        .update({ date_grades_available: new Date(Date.now() - 86_400_000) });
      await db.raw(
        `INSERT INTO grades_proctoredexamgrade (created_on, updated_on, user_id, course_id, exam_run_id, exam_date, passing_score,
                                                score, grade, client_authorization_id, row_data, passed, percentage_grade)
         SELECT now(), now(), e.user_id, ?, ?, now(), 50, 80, 'pass', NULL, '{"score": "80"}', true, 0.8
           FROM dashboard_cachedenrollment e WHERE e.course_run_id = ?`,
        [run.course_id, examRun, run.id],
      );
      return { runId: run.id as number, courseId: run.course_id as number, at: new Date() };
    });
    const killed = await runCli(['freeze', key, '--concurrency', '1'], { ...world.env, GRADEOPS_TEST_FAULT: 'kill-after-commit=3' });
    expect(killed.code).toBeNull(); // SIGKILL

    const left = await withDb(async (db) => ({
      frozen: await db('grades_finalgrade').where({ course_run_id: since.runId }).pluck('user_id'),
      due: await db('gradeops_side_effects_due').where({ course_run_id: since.runId }).pluck('user_id'),
    }));
    expect(left.frozen).toHaveLength(3);
    expect(left.due.length).toBeGreaterThanOrEqual(1);

    const rerun = await runCli(['freeze', key, '--json'], world.env);
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = json(rerun);
    expect(summary.sideEffects).toEqual({ finishedLeftover: left.due.length, due: 0 });

    await withDb(async (db) => {
      expect(await db('gradeops_side_effects_due').where({ course_run_id: since.runId })).toEqual([]);
      const passed = await db('grades_finalgrade').where({ course_run_id: since.runId, status: 'complete', passed: true }).pluck('user_id');
      expect(passed.length).toBeGreaterThan(3);
      // Exactly one combined-grade write per passed learner since the test began: none lost, none twice.
      const writes = await db('gradeops_audit_log')
        .where({ action: 'combined-final-grade', course_run_id: since.runId })
        .where('created_on', '>=', since.at)
        .pluck('user_id');
      expect([...writes].sort()).toEqual([...passed].sort());
      const audits = await db('grades_combinedfinalgradeaudit as a')
        .join('grades_combinedfinalgrade as c', 'c.id', 'a.combined_final_grade_id')
        .where('c.course_id', since.courseId)
        .where('a.created_on', '>=', since.at)
        .pluck('c.user_id');
      expect([...audits].sort()).toEqual([...passed].sort());
      expect(await db('gradeops_freeze_run').where({ course_run_id: since.runId }).orderBy('id').pluck('outcome')).toEqual([
        'crashed',
        'finished',
      ]);
    });
  });

  it('gradeops side-effects shows what a crash left due and finishes it; a second call finds nothing', async () => {
    const key = keys[3];
    const killed = await runCli(['freeze', key, '--concurrency', '1'], { ...world.env, GRADEOPS_TEST_FAULT: 'kill-after-commit=2' });
    expect(killed.code).toBeNull();
    const res = await runCli(['side-effects', key, '--json'], world.env);
    expect(res.code, res.stderr).toBe(0);
    const out = json(res);
    expect(out.found.length).toBeGreaterThanOrEqual(1);
    expect(out.found[0]).toMatchObject({ courseKey: key, source: 'freeze', created: true, attempts: 0, lastError: null });
    expect(out.finished.map((f: { finalGradeId: number }) => f.finalGradeId)).toEqual(
      out.found.map((f: { finalGradeId: number }) => f.finalGradeId),
    );
    expect(out).toMatchObject({ courseKey: key, stillDue: [], skipped: [] });
    const again = await runCli(['side-effects'], world.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('no FinalGrade side effects are due');
  });
});

describe('issue 12 §5 through the CLI: a lost lock', () => {
  it('stops the job and exits 1 with one error line naming the lost lock; the run record says lost-lock', async () => {
    const key = keys[6];
    const edx = await startTestEdx(world);
    edx.edxorg.knobs.latencyMs = 100; // slow enough for the heartbeat (every 500 ms here) to notice mid-run
    try {
      const res = await runCli(['freeze', key, '--concurrency', '1'], {
        ...edx.env,
        GRADEOPS_TEST_FAULT: 'steal-lock-after-commit=2,lock-ttl-ms=1500',
      });
      expect(res.code, res.stderr).toBe(1);
      const errors = res.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toEqual([
        expect.stringMatching(/^error: the freeze lock of .* was lost to test-thief .* — check `gradeops freeze-status/),
      ]);
      expect(res.stdout).toBe('');
      await withDb(async (db) => {
        const runId = (await db('courses_courserun').where('edx_course_key', key).first('id')).id;
        expect(await db('gradeops_freeze_run').where({ course_run_id: runId }).pluck('outcome')).toEqual(['lost-lock']);
        const frozen = await db('grades_finalgrade').where({ course_run_id: runId }).count('* as n').first();
        const eligible = (await eligibleOf(key)).length;
        expect(Number(frozen!.n)).toBeLessThan(eligible);
      });
    } finally {
      await edx.close();
    }
  });
});

describe('Ctrl-C on gradeops freeze (issue 12 §6)', () => {
  async function startedFreeze(key: string, env: NodeJS.ProcessEnv) {
    const job = startCli(['freeze', key, '--concurrency', '1'], env);
    let log = '';
    job.stderr.on('data', (d) => {
      log += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      job.on('close', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = [...log.matchAll(/progress (\d+)\/(\d+)/g)].at(-1);
        if (m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])) {
          clearInterval(timer);
          resolve();
        }
      }, 25);
      exited
        .then(() => {
          clearInterval(timer);
          reject(new Error(`the freeze ended before it could be interrupted:\n${log}`));
        })
        .catch(reject);
    });
    return { job, exited, log: () => log };
  }

  it('SIGINT: exit 130 after the learners in flight; a re-run freezes the rest, each learner once', async () => {
    const key = keys[4];
    const edx = await startTestEdx(world);
    edx.edxorg.knobs.latencyMs = 60;
    try {
      const { job, exited, log } = await startedFreeze(key, edx.env);
      job.kill('SIGINT');
      const { code } = await exited;
      expect(code, log()).toBe(130);
      edx.edxorg.knobs.latencyMs = 0;
      const rerun = await runCli(['freeze', key, '--json'], edx.env);
      expect(rerun.code, rerun.stderr).toBe(0);
      const summary = json(rerun);
      expect(summary.remaining).toBe(0);
      expect(summary.frozenThisRun).toBeGreaterThan(0);
      await withDb(async (db) => {
        const runId = (await db('courses_courserun').where('edx_course_key', key).first('id')).id;
        const users = await db('grades_finalgrade').where({ course_run_id: runId, status: 'complete' }).pluck('user_id');
        expect(new Set(users).size).toBe(users.length);
        expect(users.length).toBe(summary.frozen);
        expect(await db('gradeops_freeze_run').where({ course_run_id: runId }).orderBy('id').pluck('outcome')).toEqual([
          'interrupted',
          'finished',
        ]);
      });
    } finally {
      await edx.close();
    }
  });

  it('a second Ctrl-C leaves at once with 130, and still closes the database (the embedded lock is released)', async () => {
    const key = keys[5];
    const edx = await startTestEdx(world);
    edx.edxorg.knobs.latencyMs = 500;
    try {
      const { job, exited, log } = await startedFreeze(key, edx.env);
      job.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 50));
      job.kill('SIGINT');
      const { code } = await exited;
      expect(code, log()).toBe(130);
      if (world.mode === 'embedded') expect(existsSync(path.join(world.env.GRADEOPS_DATA_DIR!, 'gradeops.lock'))).toBe(false);
      edx.edxorg.knobs.latencyMs = 0;
      const rerun = await runCli(['freeze', key, '--json'], edx.env);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(json(rerun).remaining).toBe(0);
    } finally {
      await edx.close();
    }
  });
});
