import { placeholders, type SqlFragment } from '../sql-facts.js';
import { coursesOfRequirements, type ProgramRequirements } from './program-requirements.js';

/** spec 2.11 / 2.13: FinalGrades of runs starting strictly after this instant are "already combined". */
export const NEW_COMBINED_FINAL_GRADES_DATE = new Date('2022-09-01T00:00:00Z');

/**
 * spec 2.13 `has_passed_course` for every course the program's requirements name, as one json
 * array of course ids (what `get_number_of_passed_courses` counts within a set):
 * - program with exams: a passed FinalGrade (any status) on a run starting strictly after
 *   2022-09-01, or a MicromastersCourseCertificate for the course (spec E26);
 * - program without exams: a complete, passed FinalGrade on any run of the course.
 */
export function passedCoursesFact(requirements: ProgramRequirements, userId: number): SqlFragment {
  const courseIds = coursesOfRequirements(requirements);
  if (courseIds.length === 0) return { sql: `SELECT '[]'::json`, bindings: [] };
  const inList = placeholders(courseIds);
  if (requirements.hasExams) {
    return {
      sql: `SELECT COALESCE(json_agg(DISTINCT p.course_id), '[]'::json) FROM (
        SELECT r.course_id FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
          WHERE f.user_id = ? AND f.passed AND r.start_date > ? AND r.course_id IN (${inList})
        UNION
        SELECT cc.course_id FROM grades_micromasterscoursecertificate cc WHERE cc.user_id = ? AND cc.course_id IN (${inList})
      ) p`,
      bindings: [userId, NEW_COMBINED_FINAL_GRADES_DATE, ...courseIds, userId, ...courseIds],
    };
  }
  return {
    sql: `SELECT COALESCE(json_agg(DISTINCT r.course_id), '[]'::json)
      FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
      WHERE f.user_id = ? AND f.passed AND f.status = 'complete' AND r.course_id IN (${inList})`,
    bindings: [userId, ...courseIds],
  };
}

export function toCourseIdSet(value: unknown): Set<number> {
  return new Set(Array.isArray(value) ? value.map(Number) : []);
}
