import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findCourseRunByKey } from '../../src/domain/course-runs/course-run-store.js';
import { freezeOneUser, freezeUserOnRun } from '../../src/domain/final-grades/freeze-user.js';
import {
  createTestWorld,
  daysFromNow,
  failedListOf,
  finalGradesOf,
  insertFinalGrade,
  opsErrorOf,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';

// spec 2.5 corrected by 5b, T9–T13: one learner at a time, with the simulator behind the refresh.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const requests = () => w.sims.edxorg.stats.requests + w.sims.mitxonline.stats.requests;
const failureRow = (runId: number, userId: number) =>
  w.db('gradeops_freeze_failure').where({ course_run_id: runId, user_id: userId }).first();
const auditRows = (runId: number, userId: number) =>
  w.db('gradeops_audit_log').where({ course_run_id: runId, user_id: userId }).orderBy('id');

async function oneLearner(
  runSpec: Parameters<TestWorld['addRun']>[0] = {},
  learnerSpec: Parameters<TestWorld['addLearner']>[1] = {},
): Promise<{ run: TestRun; l: TestLearner }> {
  const run = await w.addRun(runSpec);
  const l = await w.addLearner(run, learnerSpec);
  return { run, l };
}

describe('preconditions (T9, T10)', () => {
  it('a run that freezes tomorrow: cannot-freeze-yet, edX is not called, nothing written', async () => {
    const { run, l } = await oneLearner({ freezeDate: daysFromNow(1) });
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('cannot-freeze-yet');
    expect(requests()).toBe(0);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([]);
  });

  it('a run frozen exactly now (ctx clock) is not yet freezable', async () => {
    const at = new Date('2025-02-01T16:00:00Z');
    const { run, l } = await oneLearner({ freezeDate: at });
    expect((await opsErrorOf(freezeOneUser(w.ctx({ now: () => at }), l.username, run.key))).code).toBe('cannot-freeze-yet');
    expect(requests()).toBe(0);
    const done = await freezeOneUser(w.ctx({ now: () => new Date(at.getTime() + 1000) }), l.username, run.key);
    expect(done.outcome).toBe('frozen');
  });

  it('a run without freeze date: missing-freeze-date, nothing called', async () => {
    const { run, l } = await oneLearner({ freezeDate: null });
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('missing-freeze-date');
    expect(error.hint).toMatch(/freeze_grade_date/);
    expect(requests()).toBe(0);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
  });

  it('unknown user, unknown key and malformed key are named', async () => {
    const { run, l } = await oneLearner();
    expect((await opsErrorOf(freezeOneUser(w.ctx(), 'nobody-here', run.key))).code).toBe('unknown-user');
    expect((await opsErrorOf(freezeOneUser(w.ctx(), l.username, 'course-v1:MITx+Nope+1T2099'))).code).toBe('unknown-course-key');
    expect((await opsErrorOf(freezeOneUser(w.ctx(), l.username, 'not a key'))).code).toBe('malformed-course-key');
    expect(requests()).toBe(0);
  });
});

describe('failures land on the failed list (T11, T12)', () => {
  it('refresh fails with edX 500: edx-error, no FinalGrade, id on failed_users_{key} and a failure row', async () => {
    const { run, l } = await oneLearner();
    w.sims.edxorg.knobs.faults.set(l.uid, 500);
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('edx-error');
    expect(error.message).toContain('500');
    // One certificate request answered 500, then nothing else: compute was never reached.
    expect(w.sims.edxorg.stats.byStatus).toEqual({ 500: 1 });
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
    const row = await failureRow(run.id, l.id);
    expect(row).toMatchObject({ reason: 'edx-error' });
    expect(row.message).toContain('500');
    expect(row.message).not.toContain(l.accessToken);
  });

  it('flag off (freezeUserOnRun) reports the failure instead of throwing', async () => {
    const { run, l } = await oneLearner();
    w.sims.edxorg.knobs.faults.set(l.uid, 'timeout');
    const result = await freezeUserOnRun(w.ctx(), await findCourseRunByKey(w.db, run.key), l.id);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'edx-timeout' });
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
  });

  it('a refused token refresh (401) is invalid-credentials and the stored token is kept', async () => {
    const { run, l } = await oneLearner({}, { token: 'needs-refresh' });
    w.sims.edxorg.knobs.unauthorizedUsers.add(l.uid);
    const before = await w.db('social_auth_usersocialauth').where('user_id', l.id).first();
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('invalid-credentials');
    expect(w.sims.edxorg.stats.byEndpoint['token-refresh']).toBe(1);
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(0);
    expect((await w.db('social_auth_usersocialauth').where('user_id', l.id).first()).extra_data).toEqual(before.extra_data);
    expect(await failureRow(run.id, l.id)).toMatchObject({ reason: 'invalid-credentials' });
  });

  it('no linked account: no-social-auth, no edX call', async () => {
    const { run, l } = await oneLearner({}, { linked: false });
    expect((await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key))).code).toBe('no-social-auth');
    expect(requests()).toBe(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
  });

  it('compute fails after a good refresh (passed null on an exam course): invalid-edx-data, refresh ran once', async () => {
    const { run, l } = await oneLearner({ exam: true }, { grade: { percent: 0.7, passed: null } });
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('invalid-edx-data');
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(1);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
    expect(await failureRow(run.id, l.id)).toMatchObject({ reason: 'invalid-edx-data' });
  });

  it('a second failure of the same learner keeps one list entry and updates the reason', async () => {
    const { run, l } = await oneLearner();
    w.sims.edxorg.knobs.faults.set(l.uid, 500);
    await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    w.sims.edxorg.knobs.faults.set(l.uid, 'timeout');
    await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
    expect(await w.db('gradeops_freeze_failure').where({ course_run_id: run.id })).toHaveLength(1);
    expect(await failureRow(run.id, l.id)).toMatchObject({ reason: 'edx-timeout' });
  });

  it('succeeding after a failure takes the learner off both failed records', async () => {
    const { run, l } = await oneLearner();
    const other = await w.addLearner(run);
    w.sims.edxorg.knobs.faults.set(l.uid, 500);
    w.sims.edxorg.knobs.faults.set(other.uid, 500);
    await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    await opsErrorOf(freezeOneUser(w.ctx(), other.username, run.key));
    w.sims.edxorg.knobs.faults.delete(l.uid);
    expect((await freezeOneUser(w.ctx(), l.username, run.key)).outcome).toBe('frozen');
    expect(await failedListOf(w.redis, run.key)).toEqual([String(other.id)]);
    expect(await failureRow(run.id, l.id)).toBeUndefined();
    expect(await failureRow(run.id, other.id)).toMatchObject({ reason: 'edx-error' });
  });
});

describe('happy path, idempotence and conflicts (T13, E15)', () => {
  it('creates one complete FinalGrade with the computed values and an audit row naming the operator; a repeat changes nothing', async () => {
    const { run, l } = await oneLearner(
      {},
      { grade: { percent: 0.82, passed: true }, certificate: { type: 'verified', status: 'downloadable' } },
    );
    const first = await freezeOneUser(w.ctx({ operator: 'ops-alice' }), l.username, run.key);
    expect(first.outcome).toBe('frozen');
    const rows = await finalGradesOf(w.db, run.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: l.id, grade: 0.82, passed: true, status: 'complete', course_run_paid_on_edx: true });
    expect(first.finalGrade).toMatchObject({ id: rows[0].id, grade: 0.82, passed: true, paidOnEdx: true, status: 'complete' });
    const audits = await auditRows(run.id, l.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      operator: 'ops-alice',
      action: 'freeze-user',
      course_key: run.key,
      username: l.username,
      data_before: null,
    });
    expect(audits[0].data_after).toMatchObject({
      id: rows[0].id,
      grade: 0.82,
      passed: true,
      status: 'complete',
      course_run_paid_on_edx: true,
    });
    expect(audits[0].detail).toMatchObject({ rule: 'course-without-exam-certificate' });
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(1);

    const second = await freezeOneUser(w.ctx({ operator: 'ops-bob' }), l.username, run.key);
    expect(second.outcome).toBe('already-frozen');
    expect(second.finalGrade.id).toBe(rows[0].id);
    expect(w.sims.edxorg.stats.byEndpoint['current-grade']).toBe(2); // refreshed again
    const after = await finalGradesOf(w.db, run.id);
    expect(after).toEqual(rows);
    expect(await auditRows(run.id, l.id)).toHaveLength(1);
    expect(await w.db('grades_finalgradeaudit').count('* as n').first()).toMatchObject({ n: 0 });
  });

  it('freezes with what edX says now, not with the stale cache', async () => {
    const { run, l } = await oneLearner(
      { exam: true },
      { grade: { percent: 0.91, passed: true }, cache: { grade: { percent: 0.2, passed: false } } },
    );
    await freezeOneUser(w.ctx(), l.username, run.key);
    expect((await finalGradesOf(w.db, run.id))[0]).toMatchObject({ grade: 0.91, passed: true, course_run_paid_on_edx: true });
  });

  it('a differing pending FinalGrade is a conflict: never overwritten, learner on the failed list', async () => {
    const { run, l } = await oneLearner({}, { grade: { percent: 0.7, passed: true } });
    const at = new Date('2024-06-02T10:00:00Z');
    // Same grade/passed/paid as the computation would give, but pending: still different.
    await insertFinalGrade(w.db, l.id, run.id, { grade: 0.7, passed: false, status: 'pending', paid: true, at });
    const before = await finalGradesOf(w.db, run.id);
    const error = await opsErrorOf(freezeOneUser(w.ctx(), l.username, run.key));
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/pending/);
    expect(error.hint).toMatch(/resync/);
    expect(await finalGradesOf(w.db, run.id)).toEqual(before);
    expect(await failedListOf(w.redis, run.key)).toEqual([String(l.id)]);
    expect(await failureRow(run.id, l.id)).toMatchObject({ reason: 'conflict' });
    expect(await auditRows(run.id, l.id)).toHaveLength(0);
  });

  it('a complete FinalGrade with other values is a conflict too (flag off reports existing and computed)', async () => {
    const { run, l } = await oneLearner({}, { grade: { percent: 0.55, passed: true } });
    await insertFinalGrade(w.db, l.id, run.id, { grade: 0.3, passed: false, status: 'complete', paid: true });
    const before = await finalGradesOf(w.db, run.id);
    const result = await freezeUserOnRun(w.ctx(), await findCourseRunByKey(w.db, run.key), l.id);
    expect(result.outcome).toBe('failed');
    if (result.outcome !== 'failed') return;
    expect(result.reason).toBe('conflict');
    expect(result.existing).toMatchObject({ grade: 0.3, passed: false });
    expect(result.computed).toMatchObject({ grade: 0.55, passed: false, paidOnEdx: true });
    expect(await finalGradesOf(w.db, run.id)).toEqual(before);
  });

  it('an identical complete FinalGrade written earlier (e.g. by MicroMasters) is returned unchanged', async () => {
    const { run, l } = await oneLearner({ exam: true }, { enrollment: 'honor', grade: { percent: 0.64, passed: true } });
    const id = await insertFinalGrade(w.db, l.id, run.id, { grade: 0.64, passed: true, status: 'complete', paid: true });
    const result = await freezeOneUser(w.ctx(), l.username, run.key);
    expect(result).toMatchObject({ outcome: 'already-frozen', finalGrade: { id } });
    expect(await auditRows(run.id, l.id)).toHaveLength(0);
  });

  it('MITx Online non-exam run: frozen as not passed (no certificate is ever fetched)', async () => {
    const { run, l } = await oneLearner(
      { backend: 'mitxonline' },
      { grade: { percent: 0.95, passed: true }, certificate: { type: 'verified', status: 'downloadable' } },
    );
    const result = await freezeOneUser(w.ctx(), l.username, run.key);
    expect(result.finalGrade).toMatchObject({ grade: 0.95, passed: false, paidOnEdx: true });
    expect(w.sims.mitxonline.stats.byEndpoint.certificate).toBe(0);
    expect(w.sims.mitxonline.stats.byEndpoint['current-grade']).toBe(1);
  });

  it('two concurrent freezes of one learner write one row', async () => {
    const { run, l } = await oneLearner();
    const results = await Promise.all([freezeOneUser(w.ctx(), l.username, run.key), freezeOneUser(w.ctx(), l.username, run.key)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['already-frozen', 'frozen']);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(1);
    expect(await auditRows(run.id, l.id)).toHaveLength(1);
  });
});
