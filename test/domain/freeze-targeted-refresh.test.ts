import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import { listFreezableRunKeys } from '../../src/domain/course-runs/freeze-date.js';
import { edxCallCounters, resetEdxCallCounters } from '../../src/domain/edx/edx-http.js';
import { seedDemo } from '../../src/seed/demo-world.js';
import { startEmbeddedSimulators } from '../../src/simulator/index.js';
import { clearClaimedDatabase } from '../helpers/redis-claims.js';
import { freshDb } from '../helpers/db.js';
import { freshRedis } from '../helpers/redis.js';
import { createTestWorld, edxSettingsFor, type LearnerSpec, type TestRun, type TestWorld } from '../helpers/world.js';

// spec 5b "targeted refresh for the batch freeze": the batch freeze asks edX only about the run it
// freezes, and the FinalGrades are those of MicroMasters' full refresh (`--full-refresh`).

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld({ timeoutMs: 1_000 });
  // An enrolled learner without a grade gets a 404 (spec 3.6), so the refresh deletes the cached row.
  w.world.edxorg.ungradedEnrolled = 'not-found';
  w.world.mitxonline.ungradedEnrolled = 'not-found';
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

/** The columns of a FinalGrade that matter, by username: what an operator would compare. */
async function finalGradeRows(db: Knex, runIds: number[]): Promise<Array<Record<string, unknown>>> {
  const rows = await db('grades_finalgrade as f')
    .join('auth_user as u', 'u.id', 'f.user_id')
    .join('courses_courserun as r', 'r.id', 'f.course_run_id')
    .whereIn('f.course_run_id', runIds)
    .select('u.username', 'r.edx_course_key', 'f.grade', 'f.passed', 'f.status', 'f.course_run_paid_on_edx')
    .orderBy(['r.edx_course_key', 'u.username']);
  return rows.map((r: Record<string, unknown>) => ({ ...r, grade: r.grade === null ? null : Number(r.grade) }));
}

/** Every cached row of these learners on these runs, as stored. */
async function cachedRows(db: Knex, userIds: number[], runIds: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['dashboard_cachedenrollment', 'dashboard_cachedcertificate', 'dashboard_cachedcurrentgrade']) {
    const rows = await db(table).whereIn('user_id', userIds).whereIn('course_run_id', runIds).orderBy(['user_id', 'course_run_id']);
    for (const r of rows) out.push(`${table} ${r.user_id} ${r.course_run_id} ${JSON.stringify(r.data)}`);
  }
  return out;
}

// The spec's scenarios as learner specs on one run: T4 (certificate type × status), T5 (no
// certificate), T6/T8 (exam formula), T7 (odd percents), E11/3.6 (edX has no grade any more: the
// 4xx deletes the cached row), E13 (token to refresh), 5b (passed null, a revoked token).
const SCENARIOS: LearnerSpec[] = [
  { enrollment: 'verified', grade: { percent: 0.91, passed: true }, certificate: { type: 'verified', status: 'downloadable' } },
  { enrollment: 'verified', grade: { percent: 0.6, passed: true }, certificate: { type: 'verified', status: 'notpassing' } },
  { enrollment: 'verified', grade: { percent: 0.3, passed: false }, certificate: { type: 'verified', status: 'unverified' } },
  { enrollment: 'verified', grade: { percent: 0.72, passed: true }, certificate: null },
  { enrollment: 'audit', grade: { percent: 0.72, passed: true }, certificate: null },
  { enrollment: 'honor', grade: { percent: 0.81, passed: true }, certificate: { type: 'honor', status: 'downloadable' } },
  { enrollment: 'verified', grade: { percent: '', passed: false } },
  { enrollment: 'verified', grade: { percent: 'foo', passed: false } },
  { enrollment: 'verified', grade: { percent: null, passed: false } },
  // Cached 0.4 but edX now says 0.85: both refreshes see the new grade.
  { enrollment: 'verified', grade: { percent: 0.85, passed: true }, cache: { grade: { percent: 0.4, passed: false } } },
  // Cached, but edX answers 404 now: the row is deleted and the learner fails (missing-cached-data).
  { enrollment: 'verified', grade: null, cache: { grade: { percent: 0.5, passed: true } } },
  { enrollment: 'verified', grade: { percent: 0.77, passed: true }, token: 'needs-refresh' },
  { enrollment: 'verified', grade: { percent: 0.66, passed: null } },
];

interface Scenario {
  run: TestRun;
  others: TestRun[];
  learnerIds: number[];
}

/** One copy of the scenarios: the run to freeze, plus two other runs every learner is enrolled in, whose cache is stale. */
async function buildScenario(spec: { exam: boolean; backend: 'edxorg' | 'mitxonline' }): Promise<Scenario> {
  const run = await w.addRun({ exam: spec.exam, backend: spec.backend });
  const others = [await w.addRun({ backend: spec.backend }), await w.addRun({ backend: spec.backend, exam: true })];
  const learnerIds: number[] = [];
  for (const s of SCENARIOS) {
    const learner = await w.addLearner(run, s);
    learnerIds.push(learner.id);
    for (const other of others)
      await w.enrollLearner(learner, other, {
        enrollment: 'verified',
        grade: { percent: 0.9, passed: true },
        certificate: { type: 'verified', status: 'downloadable' },
        cache: { grade: { percent: 0.2, passed: false }, certificate: false },
      });
  }
  return { run, others, learnerIds };
}

function byPosition(rows: Array<Record<string, unknown>>, usernames: string[]): Array<Record<string, unknown>> {
  return rows.map((r) => ({ ...r, username: usernames.indexOf(r.username as string), edx_course_key: undefined }));
}

async function usernamesOf(ids: number[]): Promise<string[]> {
  const rows = await w.db('auth_user').whereIn('id', ids).select('id', 'username');
  const byId = new Map(rows.map((r: { id: number; username: string }) => [r.id, r.username]));
  return ids.map((id) => byId.get(id)!);
}

describe('targeted refresh gives the FinalGrades of the full refresh (spec 5b)', () => {
  for (const spec of [
    { exam: false, backend: 'edxorg' as const },
    { exam: true, backend: 'edxorg' as const },
    { exam: false, backend: 'mitxonline' as const },
    { exam: true, backend: 'mitxonline' as const },
  ]) {
    it(`the spec's scenarios, ${spec.exam ? 'exam' : 'non-exam'} course on ${spec.backend}: same rows, same failures`, async () => {
      const targeted = await buildScenario(spec);
      const full = await buildScenario(spec);
      const t = await runFreezeJob(w.ctx(), targeted.run.key, { concurrency: 4 });
      const f = await runFreezeJob(w.ctx(), full.run.key, { concurrency: 4, fullRefresh: true });

      const tRows = byPosition(await finalGradeRows(w.db, [targeted.run.id]), await usernamesOf(targeted.learnerIds));
      const fRows = byPosition(await finalGradeRows(w.db, [full.run.id]), await usernamesOf(full.learnerIds));
      expect(tRows.length).toBeGreaterThan(0);
      expect(tRows.sort((a, b) => Number(a.username) - Number(b.username))).toEqual(
        fRows.sort((a, b) => Number(a.username) - Number(b.username)),
      );
      const reasons = (s: typeof t, ids: number[]) => [...s.failed, ...s.dropped].map((x) => `${ids.indexOf(x.userId)} ${x.reason}`).sort();
      expect(reasons(t, targeted.learnerIds)).toEqual(reasons(f, full.learnerIds));
      // The 404 deleted the cached grade both ways (dropped); passed null fails the exam formula.
      expect(reasons(t, targeted.learnerIds)).toEqual(spec.exam ? ['10 no-current-grade', '12 invalid-edx-data'] : ['10 no-current-grade']);
      expect({ frozen: t.frozen, eligible: t.eligible, remaining: t.remaining }).toEqual({
        frozen: f.frozen,
        eligible: f.eligible,
        remaining: f.remaining,
      });
    });
  }
});

describe('what the targeted freeze asks edX and leaves alone (spec 5b)', () => {
  it("edX: exactly a certificate and a grade call per learner, and the other runs' cached rows stay as they were", async () => {
    const s = await buildScenario({ exam: false, backend: 'edxorg' });
    const before = await cachedRows(
      w.db,
      s.learnerIds,
      s.others.map((r) => r.id),
    );
    resetEdxCallCounters();
    await runFreezeJob(w.ctx(), s.run.key, { concurrency: 4 });
    const calls = edxCallCounters().byEndpoint;
    const learners = SCENARIOS.length;
    const refreshing = SCENARIOS.filter((x) => x.token === 'needs-refresh').length;
    expect(w.sims.edxorg.stats.byEndpoint).toEqual({
      enrollments: 0,
      certificate: learners,
      'current-grade': learners,
      'token-refresh': refreshing,
      other: 0,
    });
    expect(calls.certificate + calls['current-grade']).toBe(2 * learners);
    expect(
      await cachedRows(
        w.db,
        s.learnerIds,
        s.others.map((r) => r.id),
      ),
    ).toEqual(before);
  });

  it('MITx Online: exactly one grade call per learner, no certificate call', async () => {
    const s = await buildScenario({ exam: true, backend: 'mitxonline' });
    const before = await cachedRows(
      w.db,
      s.learnerIds,
      s.others.map((r) => r.id),
    );
    await runFreezeJob(w.ctx(), s.run.key, { concurrency: 4 });
    const stats = w.sims.mitxonline.stats.byEndpoint;
    expect({ certificate: stats.certificate, grade: stats['current-grade'] }).toEqual({ certificate: 0, grade: SCENARIOS.length });
    expect(
      await cachedRows(
        w.db,
        s.learnerIds,
        s.others.map((r) => r.id),
      ),
    ).toEqual(before);
  });

  it('--full-refresh asks about every cached enrollment and refreshes the other runs too', async () => {
    const s = await buildScenario({ exam: false, backend: 'edxorg' });
    const before = await cachedRows(
      w.db,
      s.learnerIds,
      s.others.map((r) => r.id),
    );
    await runFreezeJob(w.ctx(), s.run.key, { concurrency: 4, fullRefresh: true });
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(3 * SCENARIOS.length);
    expect(
      await cachedRows(
        w.db,
        s.learnerIds,
        s.others.map((r) => r.id),
      ),
    ).not.toEqual(before);
  });
});

describe('targeted vs full refresh on the demo world (spec 5b)', () => {
  /** Freezes every freezable run of a fresh demo world, in order; its FinalGrades, cached grades and edX calls. */
  async function freezeDemo(fullRefresh: boolean) {
    const now = new Date();
    const db = await freshDb();
    await seedDemo(db, { learners: 60, seed: 3, now });
    const redis = await freshRedis();
    const sims = await startEmbeddedSimulators(db);
    try {
      const ctx = { db, redis, edx: edxSettingsFor(sims.urls, { timeoutMs: 2_000 }), operator: 'test-operator', now: () => now };
      const keys = await listFreezableRunKeys(db, now);
      for (const key of keys) await runFreezeJob(ctx, key, { concurrency: 4, fullRefresh });
      const runIds = (await db('courses_courserun').select('id')).map((r: { id: number }) => r.id);
      const calls = Object.values(sims.simulators).reduce(
        (n, sim) => n + sim.stats.byEndpoint.certificate + sim.stats.byEndpoint['current-grade'],
        0,
      );
      const cachedGrades = new Set(
        (
          await db('dashboard_cachedcurrentgrade as g')
            .join('auth_user as u', 'u.id', 'g.user_id')
            .join('courses_courserun as r', 'r.id', 'g.course_run_id')
            .select('u.username', 'r.edx_course_key')
        ).map((r: { username: string; edx_course_key: string }) => `${r.username} ${r.edx_course_key}`),
      );
      return { keys, rows: await finalGradeRows(db, runIds), calls, cachedGrades };
    } finally {
      await sims.close();
      await clearClaimedDatabase(redis);
    }
  }

  it('every freezable run frozen both ways: the same FinalGrade for every learner both froze, far fewer edX calls', async () => {
    const targeted = await freezeDemo(false);
    const full = await freezeDemo(true);
    expect(targeted.keys.length).toBeGreaterThan(1);
    expect(targeted.keys).toEqual(full.keys);
    const id = (r: Record<string, unknown>) => `${String(r.username)} ${String(r.edx_course_key)}`;
    const fullById = new Map(full.rows.map((r) => [id(r), r]));
    const targetedIds = new Set(targeted.rows.map(id));
    expect(targeted.rows.length).toBeGreaterThan(0);
    for (const row of targeted.rows) expect(row).toEqual(fullById.get(id(row)));
    // The full refresh of one run also caches grades edX has on the learner's other runs, which
    // makes a learner with no cached grade there (spec 2.2: not a candidate) eligible for a run
    // frozen later. The targeted freeze leaves those runs' cache as it found it, so those
    // learners are not frozen there: that, and only that, is the difference.
    for (const extra of full.rows.filter((r) => !targetedIds.has(id(r)))) expect(targeted.cachedGrades.has(id(extra))).toBe(false);
    expect(targeted.calls).toBeLessThan(full.calls / 2);
  }, 120_000);
});
