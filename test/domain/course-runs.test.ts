import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCourseRunByKey, listCourseRuns } from '../../src/domain/course-runs/course-run-store.js';
import { assertCanFreeze, canFreezeGrades, listFreezableRunKeys } from '../../src/domain/course-runs/freeze-date.js';
import { ensurePendingStatus, getGradingStatus, setStatusComplete } from '../../src/domain/course-runs/grading-status.js';
import { OpsError } from '../../src/domain/errors.js';
import { createTestWorld, daysFromNow, opsErrorOf, type TestWorld } from '../helpers/world.js';

// Issue #3 part 1: course runs by exact key, the freeze-date preconditions (spec 2.1, T1) and the
// discovery of freezable runs (T2).

let w: TestWorld;
beforeAll(async () => {
  w = await createTestWorld();
});
afterAll(async () => {
  await w.close();
});

describe('findCourseRunByKey', () => {
  it('finds a run by its exact key, with its course, program, backend and exam flag', async () => {
    const run = await w.addRun({ exam: true, backend: 'mitxonline' });
    const found = await findCourseRunByKey(w.db, run.key);
    expect(found).toMatchObject({
      id: run.id,
      courseKey: run.key,
      courseId: run.courseId,
      programId: w.programId,
      backend: 'mitxonline',
      courseHasExam: true,
    });
    expect(found.freezeGradeDate).toBeInstanceOf(Date);
    const plain = await w.addRun();
    expect((await findCourseRunByKey(w.db, plain.key)).courseHasExam).toBe(false);
  });

  it('refuses an unknown key with unknown-course-key, and keys are case-sensitive (no fuzzy match)', async () => {
    const run = await w.addRun();
    const error = await opsErrorOf(findCourseRunByKey(w.db, 'course-v1:MITx+Nope+1T2020'));
    expect(error.code).toBe('unknown-course-key');
    expect(error.message).toContain('course-v1:MITx+Nope+1T2020');
    expect((await opsErrorOf(findCourseRunByKey(w.db, run.key.replace('MITx', 'mitx')))).code).toBe('unknown-course-key');
    // A prefix of a real key is not that key.
    expect((await opsErrorOf(findCourseRunByKey(w.db, run.key.slice(0, -1)))).code).toBe('unknown-course-key');
  });

  it('refuses a malformed key with malformed-course-key before looking anything up', async () => {
    for (const bad of ['', 'MITx 14.100x', 'course-v1:MITx+X', 'course-v1:MITx+X+1T2020 ', "x' OR '1'='1"]) {
      const error = await opsErrorOf(findCourseRunByKey(w.db, bad));
      expect(error.code, bad).toBe('malformed-course-key');
      expect(error.hint).toMatch(/course-v1:/);
    }
    // The legacy ORG/COURSE/RUN form is a well-formed key (then unknown here).
    expect((await opsErrorOf(findCourseRunByKey(w.db, 'MITx/14.73x/3T2015'))).code).toBe('unknown-course-key');
  });

  it('lists runs with their grading status', async () => {
    const run = await w.addRun();
    await setStatusComplete(w.db, run.id, new Date());
    const listing = await listCourseRuns(w.db);
    expect(listing.find((r) => r.courseKey === run.key)?.gradingStatus).toBe('complete');
  });
});

describe('freeze-date preconditions (spec 2.1, T1, E1, E2)', () => {
  it('a date a week ago can be frozen; a week ahead cannot; a missing date is its own error', async () => {
    const past = await findCourseRunByKey(w.db, (await w.addRun({ freezeDate: daysFromNow(-7) })).key);
    const future = await findCourseRunByKey(w.db, (await w.addRun({ freezeDate: daysFromNow(7) })).key);
    const missing = await findCourseRunByKey(w.db, (await w.addRun({ freezeDate: null })).key);
    const now = new Date();
    expect(canFreezeGrades(past, now)).toBe(true);
    expect(canFreezeGrades(future, now)).toBe(false);
    expect(() => assertCanFreeze(past, now)).not.toThrow();

    const notYet = (() => {
      try {
        assertCanFreeze(future, now);
        return null;
      } catch (e) {
        return e as OpsError;
      }
    })();
    expect(notYet?.code).toBe('cannot-freeze-yet');
    expect(notYet?.message).toContain(future.freezeGradeDate!.toISOString());
    expect(notYet?.message).toContain('UTC');

    for (const check of [() => canFreezeGrades(missing, now), () => assertCanFreeze(missing, now)]) {
      const error = (() => {
        try {
          check();
          return null;
        } catch (e) {
          return e as OpsError;
        }
      })();
      expect(error).toBeInstanceOf(OpsError);
      expect(error?.code).toBe('missing-freeze-date');
      expect(error?.message).toContain(missing.courseKey);
    }
  });

  it('exactly now is not yet (strictly later is required), one millisecond later is', async () => {
    const at = new Date('2025-03-01T16:00:00.000Z');
    const run = await findCourseRunByKey(w.db, (await w.addRun({ freezeDate: at })).key);
    expect(canFreezeGrades(run, new Date(at.getTime()))).toBe(false);
    expect(canFreezeGrades(run, new Date(at.getTime() - 1))).toBe(false);
    expect(canFreezeGrades(run, new Date(at.getTime() + 1))).toBe(true);
  });

  it('compares instants in UTC whatever offset the date was written with', async () => {
    // 18:00 at +02:00 is 16:00 UTC.
    const key = (await w.addRun({ freezeDate: null })).key;
    await w
      .db('courses_courserun')
      .where('edx_course_key', key)
      .update({ freeze_grade_date: w.db.raw(`'2025-03-01 18:00:00+02'::timestamptz`) });
    const run = await findCourseRunByKey(w.db, key);
    expect(run.freezeGradeDate!.toISOString()).toBe('2025-03-01T16:00:00.000Z');
    expect(canFreezeGrades(run, new Date('2025-03-01T16:00:00.000Z'))).toBe(false);
    expect(canFreezeGrades(run, new Date('2025-03-01T16:00:00.001Z'))).toBe(true);
  });
});

describe('listFreezableRunKeys (spec 2.1 get_freezable, T2)', () => {
  it('returns past-dated runs without a complete status (pending or none), never future, complete or undated ones', async () => {
    const now = new Date();
    const a = await w.addRun({ freezeDate: daysFromNow(-1) });
    const b = await w.addRun({ freezeDate: daysFromNow(-1) });
    const c = await w.addRun({ freezeDate: daysFromNow(1) });
    const d = await w.addRun({ freezeDate: daysFromNow(-1) });
    const e = await w.addRun({ freezeDate: null });
    const p = await w.addRun({ freezeDate: daysFromNow(-3) });
    const discontinued = await w.addRun({ freezeDate: daysFromNow(-2) });
    await w.db('courses_courserun').where('id', discontinued.id).update({ is_discontinued: true });
    await setStatusComplete(w.db, d.id, now);
    await ensurePendingStatus(w.db, p.id, now);

    const keys = await listFreezableRunKeys(w.db, now);
    const ours = keys.filter((k) => [a, b, c, d, e, p, discontinued].some((r) => r.key === k));
    expect(ours).toEqual([a.key, b.key, p.key, discontinued.key]);
  });

  it('a run dated exactly now is not freezable yet', async () => {
    const at = new Date('2030-01-01T00:00:00Z');
    const run = await w.addRun({ freezeDate: at });
    expect(await listFreezableRunKeys(w.db, at)).not.toContain(run.key);
    expect(await listFreezableRunKeys(w.db, new Date(at.getTime() + 1))).toContain(run.key);
  });
});

describe('grading status (spec 1.6, T18)', () => {
  it('goes none → pending → complete, never back to pending', async () => {
    const run = await w.addRun();
    const now = new Date();
    expect(await getGradingStatus(w.db, run.id)).toBe('not_started');
    await ensurePendingStatus(w.db, run.id, now);
    expect(await getGradingStatus(w.db, run.id)).toBe('pending');
    await ensurePendingStatus(w.db, run.id, now); // idempotent
    expect(await w.db('grades_courserungradingstatus').where('course_run_id', run.id).count('* as n').first()).toMatchObject({ n: 1 });
    await setStatusComplete(w.db, run.id, now);
    expect(await getGradingStatus(w.db, run.id)).toBe('complete');
    expect((await opsErrorOf(ensurePendingStatus(w.db, run.id, now))).code).toBe('already-complete');
    expect(await getGradingStatus(w.db, run.id)).toBe('complete');
  });
});
