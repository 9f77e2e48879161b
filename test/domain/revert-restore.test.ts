import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import { getFreezeStatus } from '../../src/domain/freeze/freeze-status.js';
import { listSnapshots, restoreFreeze } from '../../src/domain/final-grades/restore.js';
import { revertFreeze } from '../../src/domain/final-grades/revert.js';
import { rawRows } from '../../src/domain/db.js';
import {
  createTestWorld,
  failedListOf,
  finalGradesOf,
  gradingStatusOf,
  opsErrorOf,
  type TestLearner,
  type TestRun,
  type TestWorld,
} from '../helpers/world.js';

// Issue #3 part 8: revert snapshots first and deletes in one transaction, refuses audited
// FinalGrades (spec 2.10(a)), lists dependents without deleting them; restore is exact.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number((await w.db(table).where(where).count('* as n').first())!.n);
/** Every column of every row, as PostgreSQL prints it (timestamps to the microsecond), to compare exactly. */
const everyColumn = async (table: string, runId: number) =>
  rawRows<{ row: string }>(
    await w.db.raw(`SELECT row_to_json(t)::text AS row FROM ${table} t WHERE t.course_run_id = ? ORDER BY t.id`, [runId]),
  ).map((r) => r.row);
const exactFinalGrades = (runId: number) => everyColumn('grades_finalgrade', runId);
const exactStatus = (runId: number) => everyColumn('grades_courserungradingstatus', runId);

async function auditFinalGrade(finalGradeId: number, actingUserId: number | null = null) {
  const at = new Date();
  await w.db('grades_finalgradeaudit').insert({
    created_on: at,
    updated_on: at,
    acting_user_id: actingUserId,
    data_before: null,
    data_after: JSON.stringify({ id: finalGradeId }),
    final_grade_id: finalGradeId,
  });
}

async function frozenRun(count = 3, exam = true): Promise<{ run: TestRun; learners: TestLearner[] }> {
  const run = await w.addRun({ exam });
  const learners = await w.addLearners(run, count, (i) => ({ grade: { percent: 0.6 + i / 20, passed: true } }));
  const summary = await runFreezeJob(w.ctx(), run.key);
  expect(summary.status).toBe('complete');
  return { run, learners };
}

async function addDependents(run: TestRun, userId: number) {
  const at = new Date();
  const examRun = await w.db('exams_examrun').where('course_id', run.courseId).first('id');
  await w.db('grades_combinedfinalgrade').insert({ created_on: at, updated_on: at, user_id: userId, course_id: run.courseId, grade: 72.0 });
  await w
    .db('grades_micromasterscoursecertificate')
    .insert({ created_on: at, updated_on: at, hash: randomUUID().replace(/-/g, ''), user_id: userId, course_id: run.courseId });
  await w
    .db('grades_micromastersprogramcertificate')
    .insert({ created_on: at, updated_on: at, hash: randomUUID().replace(/-/g, ''), user_id: userId, program_id: w.programId });
  await w
    .db('grades_micromastersprogramcommendation')
    .insert({ created_on: at, updated_on: at, uuid: randomUUID(), user_id: userId, program_id: w.programId, is_active: true });
  await w.db('exams_examauthorization').insert({
    created_on: at,
    updated_on: at,
    user_id: userId,
    course_id: run.courseId,
    exam_run_id: examRun.id,
    operation: 'add',
    status: 'success',
    exam_taken: false,
    exam_no_show: false,
  });
}

describe('revertFreeze', () => {
  it('refuses a confirmation that does not match the key, changing nothing', async () => {
    const { run } = await frozenRun(1);
    for (const confirm of ['', run.key.toLowerCase(), `${run.key} `, 'yes']) {
      const error = await opsErrorOf(revertFreeze(w.ctx(), run.key, { confirm }));
      expect(error.code).toBe('confirmation-mismatch');
      expect(error.message).toContain(run.key);
    }
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(1);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(await count('gradeops_snapshot', { course_run_id: run.id })).toBe(0);
  });

  it('a run with nothing frozen is not-frozen', async () => {
    const run = await w.addRun();
    expect((await opsErrorOf(revertFreeze(w.ctx(), run.key, { confirm: run.key }))).code).toBe('not-frozen');
  });

  it('snapshots, deletes FinalGrades and the status, counts dependents without deleting them, clears the failed list; restore is exact', async () => {
    const { run, learners } = await frozenRun(3);
    await addDependents(run, learners[0].id);
    await addDependents(run, learners[1].id);
    // A leftover failure record and progress key for the run.
    await w.redis.lpush(`failed_users_${run.key}`, String(learners[2].id), '77');
    await w
      .db('gradeops_freeze_failure')
      .insert({ course_run_id: run.id, user_id: learners[2].id, reason: 'edx-error', message: 'x', failed_on: new Date() });
    const before = await exactFinalGrades(run.id);
    const statusBefore = await exactStatus(run.id);
    const dependentTables = [
      'grades_combinedfinalgrade',
      'grades_micromasterscoursecertificate',
      'grades_micromastersprogramcertificate',
      'grades_micromastersprogramcommendation',
      'exams_examauthorization',
    ];
    const dependentsBefore = await Promise.all(dependentTables.map((t) => count(t)));

    const result = await revertFreeze(w.ctx({ operator: 'ops-frank' }), run.key, { confirm: run.key });
    expect(result).toMatchObject({
      courseKey: run.key,
      deletedFinalGrades: 3,
      keptAuditedFinalGrades: [],
      deletedGradingStatus: true,
      dependents: { combinedFinalGrades: 2, courseCertificates: 2, programCertificates: 2, programLetters: 2, examAuthorizations: 2 },
    });
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    expect(await gradingStatusOf(w.db, run.id)).toBeNull();
    expect(await Promise.all(dependentTables.map((t) => count(t)))).toEqual(dependentsBefore);
    expect(await w.redis.exists(`failed_users_${run.key}`, `gradeops:freeze:progress:${run.key}`)).toBe(0);
    expect(await count('gradeops_freeze_failure', { course_run_id: run.id })).toBe(0);
    expect(await w.db('gradeops_audit_log').where({ course_run_id: run.id, action: 'revert-freeze' })).toEqual([
      expect.objectContaining({ operator: 'ops-frank' }),
    ]);
    const snapshots = await listSnapshots(w.ctx(), run.key);
    expect(snapshots).toEqual([
      expect.objectContaining({ id: result.snapshotId, operator: 'ops-frank', kind: 'revert-freeze', restoredOn: null }),
    ]);
    // The run is freezable again and shows as not started.
    expect(await getFreezeStatus(w.ctx(), run.key)).toMatchObject({ status: 'not_started', frozen: 0, eligible: 3, remaining: 3 });

    // Restore: same ids, values, timestamps and status.
    expect((await opsErrorOf(restoreFreeze(w.ctx(), result.snapshotId, { confirm: 'wrong' }))).code).toBe('confirmation-mismatch');
    const restored = await restoreFreeze(w.ctx({ operator: 'ops-gina' }), result.snapshotId, { confirm: run.key });
    expect(restored).toMatchObject({
      snapshotId: result.snapshotId,
      courseKey: run.key,
      restoredFinalGrades: 3,
      restoredGradingStatus: 'complete',
    });
    expect(await exactFinalGrades(run.id)).toEqual(before);
    expect(await exactStatus(run.id)).toEqual(statusBefore);
    expect(await listSnapshots(w.ctx(), run.key)).toEqual([
      expect.objectContaining({ restoredBy: 'ops-gina', restoredOn: expect.any(String) }),
    ]);
    expect(await w.db('gradeops_audit_log').where({ course_run_id: run.id, action: 'restore-freeze' })).toEqual([
      expect.objectContaining({ operator: 'ops-gina' }),
    ]);

    const twice = await opsErrorOf(restoreFreeze(w.ctx(), result.snapshotId, { confirm: run.key }));
    expect(twice.code).toBe('snapshot-restored');
    expect(twice.message).toContain('ops-gina');
    expect(await exactFinalGrades(run.id)).toEqual(before);
  });

  it('restores timestamps exactly, microseconds included (rows written by Django carry them)', async () => {
    const run = await w.addRun();
    const [a] = await w.addLearners(run, 1);
    await w.db('grades_finalgrade').insert({
      user_id: a.id,
      course_run_id: run.id,
      grade: 0.8125,
      passed: true,
      status: 'complete',
      course_run_paid_on_edx: true,
      created_on: w.db.raw(`'2024-05-01T16:00:03.123456Z'::timestamptz`),
      updated_on: w.db.raw(`'2024-05-02T09:30:00.000789Z'::timestamptz`),
    });
    await w.db('grades_courserungradingstatus').insert({
      course_run_id: run.id,
      status: 'complete',
      created_on: w.db.raw(`'2024-05-01T15:59:59.999999Z'::timestamptz`),
      updated_on: w.db.raw(`'2024-05-01T16:10:00.000001Z'::timestamptz`),
    });
    const before = await exactFinalGrades(run.id);
    const statusBefore = await exactStatus(run.id);
    const { snapshotId } = await revertFreeze(w.ctx(), run.key, { confirm: run.key });
    await restoreFreeze(w.ctx(), snapshotId, { confirm: run.key });
    expect(await exactFinalGrades(run.id)).toEqual(before);
    expect(await exactStatus(run.id)).toEqual(statusBefore);
  });

  it('restores a column MicroMasters adds later too: the snapshot holds every column', async () => {
    const { run } = await frozenRun(2, false);
    await w.db.raw('ALTER TABLE grades_finalgrade ADD COLUMN review_note text NULL');
    try {
      await w.db('grades_finalgrade').where('course_run_id', run.id).update({ review_note: 'checked by the registrar' });
      const before = await exactFinalGrades(run.id);
      expect(before[0]).toContain('"review_note":"checked by the registrar"');
      const { snapshotId } = await revertFreeze(w.ctx(), run.key, { confirm: run.key });
      await restoreFreeze(w.ctx(), snapshotId, { confirm: run.key });
      expect(await exactFinalGrades(run.id)).toEqual(before);
    } finally {
      await w.db.raw('ALTER TABLE grades_finalgrade DROP COLUMN review_note');
    }
  });

  it('restore puts the failed list back as it was at the revert: Redis ids in order and gradeops reasons (issue 12 §6)', async () => {
    const run = await w.addRun();
    const [a, b] = await w.addLearners(run, 2);
    await w.addLearners(run, 2);
    w.sims.edxorg.knobs.faults.set(a.uid, 500);
    w.sims.edxorg.knobs.faults.set(b.uid, 'timeout');
    await runFreezeJob(w.ctx(), run.key);
    await w.redis.lpush(`failed_users_${run.key}`, '424242'); // an id MicroMasters pushed
    const listBefore = await failedListOf(w.redis, run.key);
    const failuresBefore = await everyColumn('gradeops_freeze_failure', run.id);
    const statusBefore = await getFreezeStatus(w.ctx(), run.key);
    expect(statusBefore).toMatchObject({ status: 'pending', frozen: 2, remaining: 0 });
    expect(statusBefore.failed.map((f) => [f.userId, f.reason]).sort()).toEqual(
      [
        [a.id, 'edx-error'],
        [b.id, 'edx-timeout'],
      ].sort(),
    );

    const { snapshotId } = await revertFreeze(w.ctx(), run.key, { confirm: run.key });
    expect(await getFreezeStatus(w.ctx(), run.key)).toMatchObject({ status: 'not_started', failed: [], remaining: 4 });

    const restored = await restoreFreeze(w.ctx(), snapshotId, { confirm: run.key });
    expect(restored).toMatchObject({ restoredFinalGrades: 2, restoredGradingStatus: 'pending', restoredFailedUsers: 3 });
    expect(await failedListOf(w.redis, run.key)).toEqual(listBefore);
    expect(await everyColumn('gradeops_freeze_failure', run.id)).toEqual(failuresBefore);
    const after = await getFreezeStatus(w.ctx(), run.key);
    expect({ failed: after.failed, remaining: after.remaining, status: after.status, dropped: after.dropped }).toEqual({
      failed: statusBefore.failed,
      remaining: 0,
      status: 'pending',
      dropped: statusBefore.dropped,
    });
  });

  it('restore refuses when grades were frozen again since the revert', async () => {
    const { run } = await frozenRun(2, false);
    const { snapshotId } = await revertFreeze(w.ctx(), run.key, { confirm: run.key });
    await runFreezeJob(w.ctx(), run.key);
    const error = await opsErrorOf(restoreFreeze(w.ctx(), snapshotId, { confirm: run.key }));
    expect(error.code).toBe('conflict');
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(2);
    expect((await opsErrorOf(restoreFreeze(w.ctx(), 999_999, { confirm: run.key }))).code).toBe('unknown-snapshot');
  });

  it('restore refuses while a freeze job holds the lock', async () => {
    const { run } = await frozenRun(1, false);
    const { snapshotId } = await revertFreeze(w.ctx(), run.key, { confirm: run.key });
    await w.redis.set(
      `gradeops:freeze:lock:${run.key}`,
      JSON.stringify({ token: 't', operator: 'ops-kim', host: 'elsewhere', pid: 1, startedOn: new Date().toISOString() }),
      'PX',
      30_000,
    );
    const error = await opsErrorOf(restoreFreeze(w.ctx(), snapshotId, { confirm: run.key }));
    expect(error.code).toBe('freeze-running');
    expect(error.message).toContain('ops-kim');
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(0);
    await w.redis.del(`gradeops:freeze:lock:${run.key}`);
    expect((await restoreFreeze(w.ctx(), snapshotId, { confirm: run.key })).restoredFinalGrades).toBe(1);
  });

  it('an audited FinalGrade blocks the revert, naming the learner, and nothing changes', async () => {
    const { run, learners } = await frozenRun(3, false);
    const audited = (await finalGradesOf(w.db, run.id)).find((r) => r.user_id === learners[1].id)!;
    await auditFinalGrade(audited.id);
    const before = await exactFinalGrades(run.id);
    await w.redis.lpush(`failed_users_${run.key}`, '12');

    const error = await opsErrorOf(revertFreeze(w.ctx(), run.key, { confirm: run.key }));
    expect(error.code).toBe('revert-blocked');
    expect(error.message).toContain(learners[1].username);
    expect(error.message).not.toContain(learners[0].username);
    expect(error.hint).toMatch(/keep-audited/);
    expect(await exactFinalGrades(run.id)).toEqual(before);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
    expect(await count('gradeops_snapshot', { course_run_id: run.id })).toBe(0);
    expect(await failedListOf(w.redis, run.key)).toEqual(['12']);

    // keepAudited: the rest is reverted, the audited one stays with its audit row.
    const result = await revertFreeze(w.ctx(), run.key, { confirm: run.key, keepAudited: true });
    expect(result).toMatchObject({
      deletedFinalGrades: 2,
      keptAuditedFinalGrades: [{ finalGradeId: audited.id, username: learners[1].username }],
      deletedGradingStatus: true,
    });
    expect((await finalGradesOf(w.db, run.id)).map((r) => r.id)).toEqual([audited.id]);
    expect(await count('grades_finalgradeaudit', { final_grade_id: audited.id })).toBe(1);
    expect(await gradingStatusOf(w.db, run.id)).toBeNull();
    // Counts: the kept learner is frozen, the others remaining.
    expect(await getFreezeStatus(w.ctx(), run.key)).toMatchObject({ status: 'not_started', eligible: 3, frozen: 1, remaining: 2 });

    // Restore brings back the reverted ones next to the kept one.
    await restoreFreeze(w.ctx(), result.snapshotId, { confirm: run.key });
    expect(await exactFinalGrades(run.id)).toEqual(before);
    expect(await gradingStatusOf(w.db, run.id)).toBe('complete');
  });

  it('spec 2.10(a) is real on this schema: deleting an audited FinalGrade directly fails at COMMIT (deferred FK), and rolls back', async () => {
    const { run, learners } = await frozenRun(1, false);
    const [fg] = await finalGradesOf(w.db, run.id);
    await auditFinalGrade(fg.id, learners[0].id);
    let nulled = -1;
    let deleted = -1;
    const attempt = w.db.transaction(async (trx) => {
      // What the Django ORM does: SET_NULL on the audit rows (the update_protect rule makes it a no-op) …
      const updated = await trx.raw(`UPDATE grades_finalgradeaudit SET final_grade_id = NULL WHERE final_grade_id = ?`, [fg.id]);
      nulled = updated.rowCount ?? updated.affectedRows ?? 0;
      // … then the delete, which succeeds until the deferred FK is checked at commit.
      const removed = await trx.raw(`DELETE FROM grades_finalgrade WHERE id = ?`, [fg.id]);
      deleted = removed.rowCount ?? removed.affectedRows ?? 0;
    });
    const error = await attempt.then(
      () => null,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(nulled).toBe(0);
    expect(deleted).toBe(1);
    expect(error).not.toBeNull();
    expect(error?.code === '23503' || /foreign key/i.test(error?.message ?? '')).toBe(true);
    expect(await finalGradesOf(w.db, run.id)).toHaveLength(1);
    // Deleting the audit row is silently ignored too (delete_protect).
    const del = await w.db('grades_finalgradeaudit').where('final_grade_id', fg.id).del();
    expect(typeof del === 'number' ? del : 0).toBe(0);
    expect(await count('grades_finalgradeaudit', { final_grade_id: fg.id })).toBe(1);
  });
});
