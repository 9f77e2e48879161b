import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resyncFinalGrade } from '../../src/domain/final-grades/resync.js';
import { freezeOneUser } from '../../src/domain/final-grades/freeze-user.js';
import {
  createTestWorld,
  failedListOf,
  finalGradesOf,
  insertFinalGrade,
  opsErrorOf,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';

// Issue #3 part 9 (spec 2.10 resync corrected by 5b): refresh first, show the difference, apply in
// one save with one gradeops audit row, never a grades_finalgradeaudit row.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const audits = (runId: number) => w.db('gradeops_audit_log').where({ course_run_id: runId, action: 'resync' }).orderBy('id');
const djangoAudits = async () => Number((await w.db('grades_finalgradeaudit').count('* as n').first())!.n);

/**
 * A learner frozen before relinking their edX account: FinalGrade 0.0 / not passed / unpaid,
 * stale cache saying the same, while edX now says 0.85 passed with a verified certificate.
 */
async function relinked(status: 'complete' | 'pending' = 'complete'): Promise<{ run: TestRun; l: TestLearner; finalGradeId: number }> {
  const run = await w.addRun();
  const l = await w.addLearner(run, {
    grade: { percent: 0.85, passed: true },
    certificate: { type: 'verified', status: 'downloadable' },
    cache: { grade: { percent: 0, passed: false }, certificate: false },
  });
  const finalGradeId = await insertFinalGrade(w.db, l.id, run.id, {
    grade: 0,
    passed: false,
    status,
    paid: false,
    at: new Date('2024-06-01T16:00:00Z'),
  });
  return { run, l, finalGradeId };
}

describe('resyncFinalGrade', () => {
  it('without apply: refreshes the cache first (edX is called), returns the differences, writes no FinalGrade and no audit', async () => {
    const { run, l } = await relinked();
    const before = await finalGradesOf(w.db, run.id);
    const result = await resyncFinalGrade(w.ctx(), l.username, run.key);

    expect(w.sims.edxorg.stats.byEndpoint.certificate).toBe(1);
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(1);
    expect(result.refresh).toMatchObject({ provider: 'edxorg', courseKeys: [run.key], certificates: 1, currentGrades: 1 });
    expect(result.applied).toBe(false);
    expect(result.computed).toMatchObject({ grade: 0.85, passed: true, paidOnEdx: true, rule: 'course-without-exam-certificate' });
    expect(result.changes).toEqual(
      expect.arrayContaining([
        { field: 'grade', before: 0, after: 0.85 },
        { field: 'passed', before: false, after: true },
        { field: 'courseRunPaidOnEdx', before: false, after: true },
      ]),
    );
    expect(result.changes).toHaveLength(3);
    expect(result.after).toEqual(result.before);
    expect(await finalGradesOf(w.db, run.id)).toEqual(before);
    expect(await audits(run.id)).toHaveLength(0);
    // The refreshed cache now holds what edX says.
    expect((await w.db('dashboard_cachedcurrentgrade').where({ user_id: l.id, course_run_id: run.id }).first()).data).toMatchObject({
      percent: 0.85,
      passed: true,
    });
  });

  it('with apply: one update of grade, passed, paid and status, one audit row naming the operator, no grades_finalgradeaudit row', async () => {
    const { run, l, finalGradeId } = await relinked('pending');
    await w.redis.lpush(`failed_users_${run.key}`, String(l.id));
    const [before] = await finalGradesOf(w.db, run.id);
    const result = await resyncFinalGrade(w.ctx({ operator: 'ops-hana' }), l.username, run.key, { apply: true });

    expect(result.applied).toBe(true);
    expect(result.changes.map((c) => c.field).sort()).toEqual(['courseRunPaidOnEdx', 'grade', 'passed', 'status']);
    const rows = await finalGradesOf(w.db, run.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: finalGradeId, grade: 0.85, passed: true, course_run_paid_on_edx: true, status: 'complete' });
    expect(new Date(rows[0].created_on).getTime()).toBe(new Date(before.created_on).getTime());
    expect(new Date(rows[0].updated_on).getTime()).toBeGreaterThan(new Date(before.updated_on).getTime());
    expect(result.after).toMatchObject({ id: finalGradeId, grade: 0.85, passed: true, paidOnEdx: true, status: 'complete' });

    const rowsAudit = await audits(run.id);
    expect(rowsAudit).toHaveLength(1);
    expect(rowsAudit[0]).toMatchObject({ operator: 'ops-hana', user_id: l.id, username: l.username, course_key: run.key });
    expect(rowsAudit[0].data_before).toMatchObject({
      id: finalGradeId,
      grade: 0,
      passed: false,
      status: 'pending',
      course_run_paid_on_edx: false,
    });
    expect(rowsAudit[0].data_after).toMatchObject({
      id: finalGradeId,
      grade: 0.85,
      passed: true,
      status: 'complete',
      course_run_paid_on_edx: true,
    });
    expect(await djangoAudits()).toBe(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([]);

    // Nothing left to change: applying again writes nothing.
    const again = await resyncFinalGrade(w.ctx(), l.username, run.key, { apply: true });
    expect(again).toMatchObject({ applied: false, changes: [] });
    expect(await audits(run.id)).toHaveLength(1);
    // And a freeze now agrees with the row.
    expect((await freezeOneUser(w.ctx(), l.username, run.key)).outcome).toBe('already-frozen');
  });

  it('creates the FinalGrade when there is none (upsert)', async () => {
    const run = await w.addRun({ exam: true });
    const l = await w.addLearner(run, { enrollment: 'audit', grade: { percent: 0.58, passed: true } });
    const dry = await resyncFinalGrade(w.ctx(), l.username, run.key);
    expect(dry.before).toBeNull();
    expect(dry.changes).toHaveLength(4);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    const applied = await resyncFinalGrade(w.ctx(), l.username, run.key, { apply: true });
    expect(applied.applied).toBe(true);
    expect(await finalGradesOf(w.db, run.id)).toEqual([
      expect.objectContaining({ grade: 0.58, passed: true, course_run_paid_on_edx: false, status: 'complete' }),
    ]);
    expect((await audits(run.id))[0].data_before).toBeNull();
  });

  it('surfaces a failing refresh and changes nothing', async () => {
    const { run, l } = await relinked();
    const before = await finalGradesOf(w.db, run.id);
    w.sims.edxorg.knobs.faults.set(l.uid, 500);
    expect((await opsErrorOf(resyncFinalGrade(w.ctx(), l.username, run.key, { apply: true }))).code).toBe('edx-error');
    expect(await finalGradesOf(w.db, run.id)).toEqual(before);
    expect(await audits(run.id)).toHaveLength(0);
    expect((await opsErrorOf(resyncFinalGrade(w.ctx(), 'no-such-learner', run.key))).code).toBe('unknown-user');
  });
});
