import type { EnrollmentMode } from './edx-payloads.js';

// The seeded FinalGrades and combined grades are what MicroMasters itself would have stored from
// the seeded cache rows, so a re-freeze or resync of an ordinary learner changes nothing; only the
// deliberate cast cases (relinked, conflict) disagree.

export interface CachedOutcome {
  mode: EnrollmentMode;
  percent: number;
  passed: boolean;
  certificate: { status: 'downloadable' | 'notpassing'; type: 'verified' } | null;
}

export interface FinalGradeValues {
  grade: number;
  passed: boolean;
  paid: boolean;
}

/** spec 2.4: the formula switches on Course.has_exam. */
export function computeFinalGrade(courseHasExam: boolean, cached: CachedOutcome): FinalGradeValues {
  const paidByMode = cached.mode === 'verified' || cached.mode === 'honor';
  if (courseHasExam) return { grade: cached.percent, passed: cached.passed, paid: paidByMode };
  if (cached.certificate) {
    return { grade: cached.percent, passed: cached.certificate.status === 'downloadable', paid: true };
  }
  return { grade: cached.percent, passed: false, paid: paidByMode };
}
