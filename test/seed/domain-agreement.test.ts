import { describe, expect, it } from 'vitest';
import { listCourseRuns } from '../../src/domain/course-runs/course-run-store.js';
import { isWellFormedCourseKey } from '../../src/domain/course-runs/course-key.js';
import { loadCachedGradeData } from '../../src/domain/final-grades/cached-grade-data.js';
import { computeFinalGrade } from '../../src/domain/final-grades/compute-final-grade.js';
import { seededDb } from './seeded-db.js';

// The seed stores FinalGrades the way MicroMasters would have computed them from the seeded cache,
// so re-freezing or resyncing an ordinary learner is a no-op. Checked with the domain's own
// computation: only the deliberate cases (a relinked account, a conflicting pending row) disagree.

describe('seeded FinalGrades and the domain computation (spec 2.4)', () => {
  it('agree for every FinalGrade but the two deliberate disagreements, dave and erin', async () => {
    const { db } = await seededDb({ learners: 120, seed: 5 });
    const runs = new Map((await listCourseRuns(db)).map((r) => [r.id, r]));
    for (const run of runs.values()) expect(isWellFormedCourseKey(run.courseKey)).toBe(true);
    const finals = await db('grades_finalgrade as f').join('auth_user as u', 'u.id', 'f.user_id').select('f.*', 'u.username');
    const disagreeing: string[] = [];
    for (const f of finals) {
      const computed = computeFinalGrade(runs.get(f.course_run_id)!, await loadCachedGradeData(db, f.user_id, f.course_run_id));
      const same = computed.grade === f.grade && computed.passed === f.passed && computed.paidOnEdx === f.course_run_paid_on_edx;
      if (!same) disagreeing.push(f.username);
      if (computed.grade === f.grade)
        expect({ passed: f.passed, paid: f.course_run_paid_on_edx }).toEqual({ passed: computed.passed, paid: computed.paidOnEdx });
    }
    // The deliberate disagreements of the demo cast (src/seed/cast.ts), and nobody else:
    //   dave — a relinked account: his complete FinalGrade (0.38, failed) predates the cached 0.82, passed;
    //   erin — a conflicting pending FinalGrade (0.55, failed) beside the cached 0.74, passed.
    expect(disagreeing.sort()).toEqual(['dave', 'erin']);
  });
});
