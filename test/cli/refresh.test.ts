import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';

// Issue 11 done-when, spec E10 end to end on the demo world (embedded, or PostgreSQL + Redis when
// the suite has them): judy is enrolled on the simulated edX but nothing is cached; diagnose says
// so and names `gradeops refresh`; the refresh caches her enrollment and grade; diagnose then
// passes those checks; freeze-user freezes her.

interface Check {
  id: string;
  outcome: string;
  detail: string;
}

let world: CliWorld;
let key: string;

beforeAll(async () => {
  world = await cliWorld();
  const runs = await runCli(['runs', '--json'], world.env);
  expect(runs.code, runs.stderr).toBe(0);
  // The demo's freezable Microeconomics run, where judy enrolled on edX.
  key = (
    JSON.parse(runs.stdout).runs as Array<{ courseKey: string; title: string; canFreeze: boolean; gradingStatus: string; backend: string }>
  ).find(
    (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.title.startsWith('Microeconomics'),
  )!.courseKey;
  expect(key).toBeDefined();
}, 120_000);

afterAll(() => world.close());

const outcomes = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c.outcome]));

describe('spec E10 with gradeops refresh', () => {
  it('diagnose names refresh, refresh caches the enrollment and grade, diagnose passes, freeze-user freezes', async () => {
    const before = await runCli(['diagnose', 'judy', key, '--json'], world.env);
    expect(before.code, before.stderr).toBe(0);
    const d1 = JSON.parse(before.stdout);
    expect(outcomes(d1.checks)).toMatchObject({
      'edx-token': expect.stringMatching(/ok|warn/),
      'cached-enrollment': 'fail',
      'cached-current-grade': 'fail',
      'computed-grade': 'fail',
      'final-grade': 'fail',
    });
    expect(d1.nextAction).toBe('refresh-enrollments');
    expect(d1.nextStep).toContain(`gradeops refresh judy ${key}`);
    const plain = await runCli(['diagnose', 'judy', key], world.env);
    expect(plain.stdout).toContain(`next: refresh judy's edX data: gradeops refresh judy ${key}`);

    const refreshed = await runCli(['refresh', 'judy', key, '--json'], world.env);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    const r = JSON.parse(refreshed.stdout);
    expect(r).toMatchObject({ username: 'judy', backends: ['edxorg'] });
    expect(r.changes).toEqual([
      { table: 'dashboard_cachedenrollment', courseKey: key, change: 'added', before: null, after: { mode: 'verified', isActive: true } },
      {
        table: 'dashboard_cachedcertificate',
        courseKey: key,
        change: 'added',
        before: null,
        after: { certificateType: 'verified', status: 'downloadable' },
      },
      { table: 'dashboard_cachedcurrentgrade', courseKey: key, change: 'added', before: null, after: { percent: 0.81, passed: true } },
    ]);
    expect(r.examProfile).toMatchObject({ outcome: 'created', courseKey: key });

    const after = await runCli(['diagnose', 'judy', key, '--json'], world.env);
    const d2 = JSON.parse(after.stdout);
    expect(outcomes(d2.checks)).toMatchObject({
      'edx-token': 'ok',
      'cached-enrollment': 'ok',
      'cached-current-grade': 'ok',
      'computed-grade': 'info',
      'failed-freeze': 'ok',
    });
    expect(d2.computed).toMatchObject({ grade: 0.81, passed: true, paidOnEdx: true });
    expect(d2.nextAction).toBe('freeze-user');

    const frozen = await runCli(['freeze-user', 'judy', key, '--json'], world.env);
    expect(frozen.code, frozen.stderr).toBe(0);
    expect(JSON.parse(frozen.stdout)).toMatchObject({
      outcome: 'frozen',
      finalGrade: { grade: 0.81, passed: true, courseRunPaidOnEdx: true, status: 'complete' },
    });

    // The refresh is audited with the operator, and the learner's tokens never reach the output.
    const db = world.openDb();
    try {
      const audit = await db('gradeops_audit_log').where({ action: 'refresh-edx-data', username: 'judy' }).first();
      expect(audit).toMatchObject({ operator: 'cli-test', course_key: key });
      const judy = await db('auth_user').where('username', 'judy').first('id');
      const { extra_data: tokens } = await db('social_auth_usersocialauth').where('user_id', judy.id).first('extra_data');
      for (const out of [refreshed.stdout, refreshed.stderr, before.stdout, plain.stdout]) {
        expect(out).not.toContain(tokens.access_token);
        expect(out).not.toContain(tokens.refresh_token);
      }
    } finally {
      await db.destroy();
    }
  }, 240_000); // seven gradeops processes in a row

  it('prints what changed row by row, and says so when nothing did', async () => {
    const res = await runCli(['refresh', 'judy', key], world.env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^refreshed judy's edX data.*: nothing changed$/m);
    expect(res.stdout).toContain(`next: gradeops diagnose judy ${key}`);
  });

  it('one line with the fix and exit 1 for a refused token or an unknown learner; exit 2 for usage', async () => {
    const bob = await runCli(['refresh', 'bob', key], world.env);
    expect(bob.code).toBe(1);
    expect(bob.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      expect.stringMatching(/refused .* — the learner must log in to MicroMasters with edX again/),
    ]);
    expect(bob.stdout).toBe('');
    const bobJson = await runCli(['refresh', 'bob', '--json'], world.env);
    expect(bobJson.code).toBe(1);
    expect(JSON.parse(bobJson.stdout)).toEqual({ error: expect.objectContaining({ code: 'invalid-credentials' }) });

    const ghost = await runCli(['refresh', 'ghost-learner'], world.env);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toMatch(/error: no user has the MicroMasters username "ghost-learner"/);

    const usage = await runCli(['refresh'], world.env);
    expect(usage.code).toBe(2);
  }, 120_000);
});
