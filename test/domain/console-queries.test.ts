import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listCourseRunOverview } from '../../src/domain/course-runs/course-run-overview.js';
import { freezePreflight } from '../../src/domain/freeze/freeze-preflight.js';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import { getFreezeStatus } from '../../src/domain/freeze/freeze-status.js';
import { previewRevert } from '../../src/domain/final-grades/revert-preview.js';
import { revertFreeze } from '../../src/domain/final-grades/revert.js';
import { findLearners } from '../../src/domain/learners/find-learners.js';
import { learnerCourseRuns } from '../../src/domain/learners/learner-course-runs.js';
import { latestAudit } from '../../src/domain/audit/audit-log.js';
import { refusedUrl } from '../helpers/refused-url.js';
import { createTestWorld, daysFromNow, insertFinalGrade, type TestWorld } from '../helpers/world.js';

// The domain queries the console's screens stand on (issue #7): the home screen's overview, the
// freeze wizard's pre-flight, the learner search, a learner's course runs, the revert preview.

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld({ timeoutMs: 10_000 });
});
afterAll(async () => {
  await w.close();
});
beforeEach(() => w.resetSimulators());

describe('listCourseRunOverview', () => {
  it('gives every run the same eligible, frozen and failed counts as its freeze status, and a live marker from the lock', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 3);
    const revoked = await w.addLearner(run, { token: 'needs-refresh' });
    w.sims.edxorg.knobs.unauthorizedUsers.add(revoked.uid);
    await w.addLearner(run, { cache: { grade: false } }); // not eligible
    await runFreezeJob(w.ctx(), run.key, { concurrency: 2 });
    const listed = await w.addLearner(run);
    await w.redis.lpush(`failed_users_${run.key}`, String(listed.id), String(listed.id), '999999'); // MicroMasters' list, duplicates and strangers
    const ungraded = await w.addLearner(run, { cache: { grade: false } });
    await w.redis.lpush(`failed_users_${run.key}`, String(ungraded.id)); // listed, not eligible: dropped
    // A failure row of a learner taken off the list is history: not failed (spec 5b, the list is the truth).
    const [retried] = await w.addLearners(run, 1);
    await w.db('gradeops_freeze_failure').insert({
      course_run_id: run.id,
      user_id: retried.id,
      reason: 'edx-timeout',
      message: 'old',
      failed_on: new Date(),
      freeze_run_id: null,
    });
    const other = await w.addRun({ freezeDate: daysFromNow(3) });
    await w.addLearners(other, 2);
    await w.redis.set(
      `gradeops:freeze:lock:${other.key}`,
      JSON.stringify({ token: 't', operator: 'op', host: 'elsewhere', pid: 1, startedOn: '2026-01-01T00:00:00Z' }),
    );

    const overview = await listCourseRunOverview(w.ctx());
    const row = overview.find((r) => r.courseKey === run.key)!;
    const status = await getFreezeStatus(w.ctx(), run.key);
    expect({ eligible: row.eligible, frozen: row.frozen, failed: row.failed, dropped: row.dropped }).toEqual({
      eligible: status.eligible,
      frozen: status.frozen,
      failed: status.failed.length,
      dropped: status.dropped.length,
    });
    expect(row).toMatchObject({
      eligible: 6,
      frozen: 3,
      failed: 2,
      dropped: 2,
      canFreeze: true,
      gradingStatus: 'pending',
      runningJob: null,
    });
    const future = overview.find((r) => r.courseKey === other.key)!;
    expect(future).toMatchObject({ eligible: 2, frozen: 0, failed: 0, canFreeze: false });
    expect(future.runningJob).toMatchObject({ operator: 'op', host: 'elsewhere' });
    await w.redis.del(`gradeops:freeze:lock:${other.key}`);
  });
});

describe('freezePreflight', () => {
  it('passes every check on a freezable run and counts what a freeze would take', async () => {
    const run = await w.addRun();
    await w.addLearners(run, 2);
    const p = await freezePreflight(w.ctx(), run.key);
    expect(p.checks.map((c) => [c.id, c.ok])).toEqual([
      ['freeze-date', true],
      ['not-complete', true],
      ['no-job-running', true],
      ['redis', true],
      ['edx', true],
    ]);
    expect(p.ready).toBe(true);
    expect(p.counts).toMatchObject({ eligible: 2, remaining: 2 });
  });

  it('fails, with the fix, on a missing or future freeze date, a complete run, a running job, and an edX that does not answer', async () => {
    const undated = await w.addRun({ freezeDate: null });
    const p1 = await freezePreflight(w.ctx(), undated.key);
    expect(p1.ready).toBe(false);
    expect(p1.checks[0]).toMatchObject({ ok: false, detail: 'the course run has no freeze date' });
    expect(p1.checks[0].fix).toContain('freeze_grade_date');

    const early = await w.addRun({ freezeDate: daysFromNow(2) });
    expect((await freezePreflight(w.ctx(), early.key)).checks[0]).toMatchObject({ ok: false });

    const done = await w.addRun();
    await w.addLearners(done, 1);
    await runFreezeJob(w.ctx(), done.key);
    const p2 = await freezePreflight(w.ctx(), done.key);
    expect(p2.checks.find((c) => c.id === 'not-complete')).toMatchObject({ ok: false, detail: 'grading status is complete' });

    const busy = await w.addRun();
    await w.redis.set(
      `gradeops:freeze:lock:${busy.key}`,
      JSON.stringify({ token: 't', operator: 'op', host: 'elsewhere', pid: 1, startedOn: '2026-01-01T00:00:00Z' }),
    );
    expect((await freezePreflight(w.ctx(), busy.key)).checks.find((c) => c.id === 'no-job-running')).toMatchObject({ ok: false });
    await w.redis.del(`gradeops:freeze:lock:${busy.key}`);

    const down = await freezePreflight(w.ctx({ edx: { ...w.settings, baseUrls: { edxorg: await refusedUrl('http') } } }), busy.key);
    const edx = down.checks.find((c) => c.id === 'edx')!;
    expect(edx.ok).toBe(false);
    expect(edx.detail).toContain('does not answer');
    expect(edx.fix).toContain('EDXORG_CALLBACK_URL');
  });
});

describe('findLearners', () => {
  it('matches the start of the username, the email or a linked edX username, case-insensitively, exact username first', async () => {
    const run = await w.addRun();
    const zed = await w.addLearner(run, { username: 'zed' });
    await w.addLearner(run, { username: 'zedekiah' });
    await w.db('auth_user').where('id', zed.id).update({ email: 'Z.Person@Example.org' });
    expect((await findLearners(w.db, 'ZED')).map((l) => l.username)).toEqual(['zed', 'zedekiah']);
    expect(await findLearners(w.db, 'z.person')).toMatchObject([{ username: 'zed', matchedOn: 'email' }]);
    const byEdx = await findLearners(w.db, 'zedekiah-rem');
    expect(byEdx).toMatchObject([
      { username: 'zedekiah', matchedOn: 'edx-username', accounts: [{ provider: 'edxorg', uid: 'zedekiah-remote' }] },
    ]);
    expect(await findLearners(w.db, '   ')).toEqual([]);
    expect(await findLearners(w.db, '%')).toEqual([]); // a LIKE wildcard is a character, not "everyone"
  });
});

describe('learnerCourseRuns', () => {
  it("lists the learner's runs with FinalGrade, cached grade, whether they differ and failed-list membership", async () => {
    const a = await w.addRun({ exam: true });
    const b = await w.addRun();
    const c = await w.addRun();
    const l = await w.addLearner(a, { username: 'relinked', grade: { percent: 0.82, passed: true } });
    await insertFinalGrade(w.db, l.id, a.id, { grade: 0.38, passed: false, status: 'complete', paid: true });
    await w.enrollLearner(l, b, { grade: { percent: 0.5, passed: false } });
    await w.redis.lpush(`failed_users_${c.key}`, String(l.id)); // only MicroMasters' list ties them to c
    const { learner, runs } = await learnerCourseRuns(w.ctx(), 'relinked');
    expect(learner.username).toBe('relinked');
    const byKey = new Map(runs.map((r) => [r.run.courseKey, r]));
    expect(byKey.get(a.key)).toMatchObject({
      finalGrade: { grade: 0.38, passed: false, status: 'complete' },
      cachedGrade: { percent: 0.82, passed: true },
      differs: true,
      onFailedList: false,
    });
    expect(byKey.get(b.key)).toMatchObject({ finalGrade: null, cachedGrade: { percent: 0.5 }, differs: false });
    expect(byKey.get(c.key)).toMatchObject({ onFailedList: true, failureReason: 'reported-by-micromasters', cachedGrade: null });
    expect(runs).toHaveLength(3);
  });
});

describe('previewRevert', () => {
  it('says what a revert removes and keeps, the same as the revert then does', async () => {
    const run = await w.addRun({ exam: true });
    const learners = await w.addLearners(run, 3);
    await runFreezeJob(w.ctx(), run.key);
    await insertFinalGrade(w.db, (await w.addLearner(run)).id, run.id, { grade: 0.1, passed: false, status: 'pending' });
    const [fg] = await w.db('grades_finalgrade').where({ user_id: learners[0].id, course_run_id: run.id });
    await w.db('grades_finalgradeaudit').insert({
      final_grade_id: fg.id,
      data_before: null,
      data_after: JSON.stringify({}),
      acting_user_id: null,
      created_on: new Date(),
      updated_on: new Date(),
    });
    const p = await previewRevert(w.ctx(), run.key);
    expect(p).toMatchObject({ finalGrades: { total: 4, complete: 3, pending: 1 }, gradingStatus: 'complete', refusal: null });
    expect(p.audited.map((a) => a.username)).toEqual([learners[0].username]);
    const result = await revertFreeze(w.ctx(), run.key, { confirm: run.key, keepAudited: true });
    expect(result.deletedFinalGrades).toBe(p.finalGrades.total - p.audited.length);
    expect(result.dependents).toEqual(p.dependents);
    const again = await previewRevert(w.ctx(), run.key);
    expect(again).toMatchObject({ finalGrades: { total: 1 }, gradingStatus: null }); // only the kept, admin-edited one is left
  });

  it('refuses up front while a freeze runs, or when there is nothing to revert', async () => {
    const run = await w.addRun();
    expect((await previewRevert(w.ctx(), run.key)).refusal).toContain('nothing to revert');
    await w.addLearners(run, 1);
    await runFreezeJob(w.ctx(), run.key);
    await w.redis.set(
      `gradeops:freeze:lock:${run.key}`,
      JSON.stringify({ token: 't', operator: 'op', host: 'elsewhere', pid: 1, startedOn: '2026-01-01T00:00:00Z' }),
    );
    expect((await previewRevert(w.ctx(), run.key)).refusal).toContain('is running');
    await w.redis.del(`gradeops:freeze:lock:${run.key}`);
  });
});

describe('latestAudit', () => {
  it('finds the newest row of an action for a course key and learner', async () => {
    const rows = await latestAudit(w.db, { action: 'freeze-completed' });
    expect(rows?.action).toBe('freeze-completed');
    expect(await latestAudit(w.db, { action: 'resync', courseKey: 'course-v1:None+None+None' })).toBeNull();
  });
});
