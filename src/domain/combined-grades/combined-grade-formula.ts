import { pythonRound } from './python-round.js';

// spec 2.11 (grades/constants.py): the weights of the combined final grade.
export const COURSE_GRADE_WEIGHT = 0.4;
export const EXAM_GRADE_WEIGHT = 0.6;

/**
 * spec 2.11: round(best_final.grade * 100 * 0.4 + best_exam.score * 0.6, 1), stored on 0–100
 * although the model declares 0–1 (spec 1.9, E24). The final grade is a 0–1 fraction, the exam
 * score 0–100.
 */
export function combinedGrade(finalGrade: number, examScore: number): number {
  return pythonRound(finalGrade * 100 * COURSE_GRADE_WEIGHT + examScore * EXAM_GRADE_WEIGHT, 1);
}
