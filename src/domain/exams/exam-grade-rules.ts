// The rules about proctored exam grades that several commands apply; each is written once here.

/**
 * spec 2.12 / 2.13: a proctored exam grade counts (combined grade, course certificate) when it is
 * passed and released: its exam run's date_grades_available ≤ now, read at the moment of use. A
 * grade without an exam run is never released (the inner join drops it). One `?` binding: now.
 */
export function releasedPassingExamGrades(g = 'g', e = 'e'): { from: string; where: string } {
  return {
    from: `grades_proctoredexamgrade ${g} JOIN exams_examrun ${e} ON ${e}.id = ${g}.exam_run_id`,
    where: `${g}.passed AND ${e}.date_grades_available <= ?`,
  };
}

/** spec 2.12 set_score: percentage_grade = score / 100, passed = score ≥ the grade's own passing_score. */
export function scoredExamGrade(
  score: number,
  passingScore: number,
): { score: number; percentageGrade: number; passed: boolean; grade: 'pass' | 'fail' } {
  const passed = score >= passingScore;
  return { score, percentageGrade: score / 100, passed, grade: passed ? 'pass' : 'fail' };
}

/** Exam scores are on 0–100 (spec 1.8). */
export const MIN_EXAM_SCORE = 0;
export const MAX_EXAM_SCORE = 100;

/**
 * spec 4 E20 and 5b "exam passing scale": exams_examrun.passing_score defaults to 0.5 while scores
 * are 0–100. A passing score of 1 or less can only be a 0–1 fraction (no 0–100 exam passes at 1 %),
 * and comparing a 0–100 score with it passes nearly everyone, so gradeops refuses to derive a pass.
 */
export function isFractionPassingScore(passingScore: number): boolean {
  return passingScore <= 1;
}

export function fractionPassingScoreReason(what: string, passingScore: number): string {
  return (
    `${what} has passing_score ${passingScore}, a 0–1 fraction, while exam scores are 0–100: every score ≥ ${passingScore} would pass (spec E20); ` +
    `set passing_score to the 0–100 pass mark (e.g. 60) in the Django admin first`
  );
}
