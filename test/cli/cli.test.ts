import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, runCli, startCli, tempDataDir } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';
import { refusedUrl } from '../helpers/refused-url.js';
import { USE_REAL_SERVICES } from '../helpers/services.js';
import { withWorldRedis } from '../helpers/cli-edx.js';

// The CLI contracts of issue #3, run as a script would (no terminal) on the demo world: embedded,
// or on real PostgreSQL + Redis when the suite has them.

interface RunRow {
  courseKey: string;
  title: string;
  canFreeze: boolean;
  gradingStatus: string;
  backend: string;
  freezeDate: string | null;
}

let world: CliWorld;
let env: NodeJS.ProcessEnv;
let runs: RunRow[];
let freezable: RunRow;

beforeAll(async () => {
  world = await cliWorld();
  env = world.env;
  const first = await runCli(['runs', '--json'], env);
  expect(first.code, first.stderr).toBe(0);
  runs = JSON.parse(first.stdout).runs;
  // The demo's freezable Microeconomics run (alice, bob, carol, erin, heidi are on it).
  freezable = runs.find(
    (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.title.startsWith('Microeconomics'),
  )!;
  expect(freezable).toBeDefined();
}, 120_000);

afterAll(() => world.close());

describe('gradeops CLI on the demo world', () => {
  it('lists course runs with freeze dates past, future and missing', () => {
    expect(runs.length).toBeGreaterThan(10);
    expect(runs.some((r) => r.freezeDate === null && !r.canFreeze)).toBe(true);
    expect(runs.some((r) => r.freezeDate !== null && !r.canFreeze)).toBe(true);
    expect(runs.some((r) => r.gradingStatus === 'complete')).toBe(true);
  });

  it('rejects an unknown and a malformed course key with one line and exit 1', async () => {
    const unknown = await runCli(['freeze-status', 'course-v1:MITx+NOPE+1T2020'], env);
    expect(unknown.code).toBe(1);
    const errorLines = unknown.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errorLines).toEqual([expect.stringContaining('no course run has the key course-v1:MITx+NOPE+1T2020')]);
    expect(unknown.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const malformed = await runCli(['freeze', 'not a key', '--json'], env);
    expect(malformed.code).toBe(1);
    expect(JSON.parse(malformed.stdout)).toEqual({
      error: expect.objectContaining({ code: 'malformed-course-key', message: expect.stringContaining('not a key') }),
    });
  });

  it('refuses to freeze a run whose freeze date is missing or in the future', async () => {
    const missing = runs.find((r) => r.freezeDate === null)!;
    const res = await runCli(['freeze', missing.courseKey, '--json'], env);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout).error.code).toBe('missing-freeze-date');
    const future = runs.find((r) => r.freezeDate !== null && !r.canFreeze)!;
    const res2 = await runCli(['freeze', future.courseKey], env);
    expect(res2.code).toBe(1);
    expect(res2.stderr).toContain('cannot be frozen yet');
  });

  it('gives usage errors exit code 2', async () => {
    expect((await runCli(['freeze'], env)).code).toBe(2);
    expect((await runCli(['freeze', freezable.courseKey, '--concurrency', 'lots'], env)).code).toBe(2);
  });

  it('freezes a run, lists failures with reasons, and completes it on the next run', async () => {
    const res = await runCli(['freeze', freezable.courseKey, '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ courseKey: freezable.courseKey, status: 'pending' });
    expect(summary.failed).toEqual(
      expect.arrayContaining([{ username: 'bob', reason: 'invalid-credentials', message: expect.any(String) }]),
    );
    expect(summary.failed.map((f: { username: string }) => f.username)).toContain('erin'); // conflicting pending FinalGrade
    expect(summary.failed.find((f: { username: string }) => f.username === 'erin').reason).toBe('conflict');
    expect(summary.frozen + summary.failed.length + summary.remaining).toBe(summary.eligible);

    const status = JSON.parse((await runCli(['freeze-status', freezable.courseKey, '--json'], env)).stdout);
    expect(status).toMatchObject({
      courseKey: freezable.courseKey,
      status: 'pending',
      canFreeze: true,
      running: false,
      failedCount: summary.failed.length,
      frozen: summary.frozen,
      eligible: summary.eligible,
    });

    const again = JSON.parse((await runCli(['freeze', freezable.courseKey, '--json'], env)).stdout);
    expect(again.status).toBe('complete');
    const after = JSON.parse((await runCli(['freeze-status', freezable.courseKey, '--json'], env)).stdout);
    expect(after.status).toBe('complete');
  });

  it('diagnoses a learner without printing their token', async () => {
    const res = await runCli(['diagnose', 'bob', freezable.courseKey, '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    const d = JSON.parse(res.stdout);
    expect(d.checks.map((c: { id: string }) => c.id)).toEqual([
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
    ]);
    expect(d.checks.find((c: { id: string }) => c.id === 'failed-freeze').detail).toContain('invalid-credentials');
    expect(d.nextAction).toBe('sign-in-again');
    // The token itself appears nowhere, in any output (only its last four characters, masked).
    const db = world.openDb();
    let social;
    try {
      social = await db('social_auth_usersocialauth as s')
        .join('auth_user as u', 'u.id', 's.user_id')
        .where({ 'u.username': 'bob', 's.provider': 'edxorg' })
        .first('s.extra_data');
    } finally {
      await db.destroy();
    }
    const extra = (typeof social.extra_data === 'string' ? JSON.parse(social.extra_data) : social.extra_data) as Record<string, string>;
    const text = await runCli(['diagnose', 'bob', freezable.courseKey], env);
    for (const secret of [extra.access_token, extra.refresh_token].filter((t) => typeof t === 'string' && t.length > 8)) {
      expect(res.stdout + res.stderr + text.stdout + text.stderr).not.toContain(secret);
    }
    expect(extra.access_token?.length).toBeGreaterThan(8);
    expect(res.stdout).toContain(`****${extra.access_token.slice(-4)}`);
  });

  it('reverts only with the typed confirmation, and restores the snapshot exactly', async () => {
    /** Every column of the run's FinalGrades, its grading status and failure rows, and its failed list. */
    const exactState = async () => {
      const db = world.openDb();
      try {
        const runId = (await db('courses_courserun').where('edx_course_key', freezable.courseKey).first('id')).id;
        const rows = async (table: string) =>
          (
            (await db.raw(`SELECT row_to_json(t)::text AS r FROM ${table} t WHERE t.course_run_id = ? ORDER BY t.id`, [runId]))
              .rows as Array<{ r: string }>
          ).map((x) => x.r);
        return {
          finalGrades: await rows('grades_finalgrade'),
          gradingStatus: await rows('grades_courserungradingstatus'),
          failures: await rows('gradeops_freeze_failure'),
          failedList: await withWorldRedis(world, (redis) => redis.lrange(`failed_users_${freezable.courseKey}`, 0, -1)),
        };
      } finally {
        await db.destroy();
      }
    };
    const before = JSON.parse((await runCli(['freeze-status', freezable.courseKey, '--json'], env)).stdout);
    const exactBefore = await exactState();
    expect(exactBefore.finalGrades.length).toBeGreaterThan(0);
    const noConfirm = await runCli(['revert-freeze', freezable.courseKey], env);
    expect(noConfirm.code).toBe(2);
    expect(noConfirm.stderr).toContain('--confirm');
    const wrong = await runCli(['revert-freeze', freezable.courseKey, '--confirm', 'course-v1:MITx+OTHER+1T2020', '--json'], env);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).error.code).toBe('confirmation-mismatch');

    const revert = await runCli(['revert-freeze', freezable.courseKey, '--confirm', freezable.courseKey, '--json'], env);
    expect(revert.code, revert.stderr).toBe(0);
    const { snapshotId, deletedFinalGrades } = JSON.parse(revert.stdout);
    expect(deletedFinalGrades).toBe(before.finalGradeRows);
    const reverted = JSON.parse((await runCli(['freeze-status', freezable.courseKey, '--json'], env)).stdout);
    expect(reverted).toMatchObject({ status: 'not_started', frozen: 0, failedCount: 0 });

    const restore = await runCli(['restore-freeze', String(snapshotId), '--confirm', freezable.courseKey, '--json'], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await exactState()).toEqual(exactBefore);
    const restored = JSON.parse((await runCli(['freeze-status', freezable.courseKey, '--json'], env)).stdout);
    expect(restored).toMatchObject({ status: 'complete', frozen: before.frozen, finalGradeRows: before.finalGradeRows });
    const twice = await runCli(['restore-freeze', String(snapshotId), '--confirm', freezable.courseKey], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('already restored');
  }, 180_000);

  // Embedded mode only: with services there is no data directory to own.
  if (!USE_REAL_SERVICES) {
    it('lets only one process own the embedded data directory', async () => {
      const pending = runs.find((r) => r.gradingStatus === 'pending')!;
      const owner = startCli(['freeze-status', pending.courseKey, '--watch'], env);
      try {
        await new Promise<void>((resolve, reject) => {
          owner.stdout.on('data', () => resolve());
          owner.on('exit', () => reject(new Error('the watcher exited early')));
        });
        const second = await runCli(['runs'], env);
        expect(second.code).toBe(1);
        expect(second.stderr).toContain(`PID ${owner.pid}`);
        expect(second.stderr).toContain('DATABASE_URL');
      } finally {
        owner.kill('SIGINT');
        await new Promise((resolve) => owner.on('exit', resolve));
      }
      // The owner left cleanly: the directory is free again.
      expect((await runCli(['runs', '--json'], env)).code).toBe(0);
    });
  }
});

// Services pass only: embedded mode is one process by design.
if (USE_REAL_SERVICES) {
  describe('two operators at once (PostgreSQL + Redis)', () => {
    it('runs exactly one of two concurrent freezes of a run; the other is refused naming the first', async () => {
      const slow = await cliWorld({ GRADEOPS_SIM_LATENCY_MS: '50' });
      try {
        const list = JSON.parse((await runCli(['runs', '--json'], slow.env)).stdout).runs as RunRow[];
        const run = list.find((r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg')!;
        const [a, b] = await Promise.all([
          runCli(['freeze', run.courseKey, '--json'], { ...slow.env, GRADEOPS_OPERATOR: 'ana' }),
          runCli(['freeze', run.courseKey, '--json'], { ...slow.env, GRADEOPS_OPERATOR: 'ben' }),
        ]);
        const codes = [a.code, b.code].sort();
        expect(codes).toEqual([0, 1]);
        const refused = JSON.parse((a.code === 1 ? a : b).stdout).error;
        expect(refused.code).toBe('freeze-running');
        expect(refused.message).toMatch(a.code === 1 ? /started by ben/ : /started by ana/);
        const db = slow.openDb();
        try {
          const runId = (await db('courses_courserun').where('edx_course_key', run.courseKey).first('id')).id;
          expect(await db('gradeops_freeze_run').where('course_run_id', runId).count('* as n')).toEqual([{ n: 1 }]);
        } finally {
          await db.destroy();
        }
      } finally {
        await slow.close();
      }
    });
  });
}

describe('bad configuration', () => {
  it('refuses a half-set environment naming the missing variable', async () => {
    const res = await runCli(['runs'], embeddedEnv(tempDataDir(), { DATABASE_URL: 'postgres://127.0.0.1:5432/test' }));
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/REDIS_URL is missing/)]);
  });

  it('reports an unreachable database in one line without its password', async () => {
    const broken = embeddedEnv(tempDataDir(), {
      DATABASE_URL: 'postgres://ops:hunter2secret@127.0.0.1:1/micromasters',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const res = await runCli(['runs', '--json'], broken);
    expect(res.code).toBe(1);
    const { error } = JSON.parse(res.stdout);
    expect(error.code).toBe('database-unreachable');
    expect(res.stdout + res.stderr).not.toContain('hunter2secret');
    // Without --json: exactly one line on stderr, naming the problem and the fix; nothing on stdout.
    const plain = await runCli(['runs'], broken);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: cannot reach PostgreSQL at .*127\.0\.0\.1:1.* — check/),
    ]);
    expect(plain.stderr).not.toContain('hunter2secret');
  });

  // Services pass only: embedded mode has its own in-process Redis.
  if (USE_REAL_SERVICES) {
    it('says Redis is down in one line naming REDIS_URL, exit 1', async () => {
      const res = await runCli(['freeze', freezable.courseKey], { ...env, REDIS_URL: await refusedUrl('redis') });
      expect(res.code).toBe(1);
      expect(res.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*REDIS_URL/),
      ]);
    });
  }
});

describe('edX down', () => {
  it('stops a freeze with one error naming EDXORG_CALLBACK_URL, exit 1, and puts nobody on the failed list (spec 5b: edX unreachable stops the job)', async () => {
    // Another freezable run than the one the other tests freeze.
    const run = runs.find(
      (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.courseKey !== freezable.courseKey,
    )!;
    const down = await runCli(['freeze', run.courseKey, '--json'], { ...env, EDXORG_CALLBACK_URL: await refusedUrl('http') });
    expect(down.code).toBe(1);
    const { error } = JSON.parse(down.stdout);
    expect(error.code).toBe('edx-unreachable');
    expect(error.hint).toMatch(/EDXORG_CALLBACK_URL/);
    const status = JSON.parse((await runCli(['freeze-status', run.courseKey, '--json'], env)).stdout);
    expect(status).toMatchObject({ failedCount: 0, frozen: 0, running: false });
    expect(status.remaining).toBe(status.eligible);
  });
});
