import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';

// issue #3: a kill -9 during a run, then a re-run, ends with every eligible learner frozen
// exactly once or listed as failed — and the dead process's data-dir lock is taken over.

let world: CliWorld;
beforeAll(async () => {
  world = await cliWorld({ GRADEOPS_SIM_LATENCY_MS: '100' });
}, 120_000);
afterAll(() => world.close());

describe('freeze after kill -9', () => {
  it('resumes and freezes every eligible learner exactly once or lists them as failed', async () => {
    const env = world.env;
    const runs = JSON.parse((await runCli(['runs', '--json'], env)).stdout).runs as Array<{
      courseKey: string;
      canFreeze: boolean;
      gradingStatus: string;
      backend: string;
    }>;
    const run = runs.find((r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg')!;

    const job = startCli(['freeze', run.courseKey, '--concurrency', '2'], env);
    let log = '';
    job.stderr.on('data', (d) => {
      log += d;
    });
    // Kill it once it is visibly under way (some learners done, some not).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = [...log.matchAll(/progress (\d+)\/(\d+)/g)].at(-1);
        if (m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
      job.on('exit', () => {
        clearInterval(timer);
        reject(new Error(`the job ended before it could be killed:\n${log}`));
      });
    });
    job.kill('SIGKILL');
    await new Promise((resolve) => job.on('close', resolve));

    const statusAfterKill = JSON.parse((await runCli(['freeze-status', run.courseKey, '--json'], env)).stdout);
    expect(statusAfterKill.status).toBe('pending');
    expect(statusAfterKill.frozen).toBeGreaterThan(0);
    expect(statusAfterKill.remaining).toBeGreaterThan(0);

    const rerun = await runCli(['freeze', run.courseKey, '--json'], env);
    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.remaining).toBe(0);
    expect(summary.frozen + summary.failed.length).toBe(summary.eligible);

    // Straight from the database: one FinalGrade and one freeze audit row per frozen learner.
    const db = world.openDb();
    try {
      const runId = (await db('courses_courserun').where('edx_course_key', run.courseKey).first('id')).id;
      const grades = await db('grades_finalgrade').where({ course_run_id: runId, status: 'complete' }).select('user_id');
      const users = grades.map((g: { user_id: number }) => g.user_id);
      expect(new Set(users).size).toBe(users.length);
      expect(users.length).toBe(summary.frozen);
      const audits = await db('gradeops_audit_log').where({ course_run_id: runId, action: 'freeze-user' }).pluck('user_id');
      expect(audits.sort()).toEqual([...users].sort());
      expect(await db('gradeops_freeze_run').where({ course_run_id: runId }).pluck('outcome')).toEqual(
        expect.arrayContaining(['crashed', 'finished']),
      );
    } finally {
      await db.destroy();
    }
  });
});
