import { rawRows, type Db } from '../db.js';
import { placeholders, type SqlFragment } from '../sql-facts.js';
import { coursesOfRequirements, type ProgramRequirements } from './program-requirements.js';

/** spec 2.11 / 2.13: FinalGrades of runs starting strictly after this instant are "already combined". */
export const NEW_COMBINED_FINAL_GRADES_DATE = new Date('2022-09-01T00:00:00Z');

/** Which learners a passed-courses query is about: an SQL condition on a user-id column. */
type UserCondition = (column: string) => SqlFragment;

/**
 * spec 2.13 `has_passed_course` for every course the program's requirements name, as
 * (user_id, course_id) rows for the learners `userCondition` admits (what
 * `get_number_of_passed_courses` counts within a set):
 * - program with exams: a passed FinalGrade (any status) on a run starting strictly after
 *   2022-09-01, or a MicromastersCourseCertificate for the course (spec E26);
 * - program without exams: a complete, passed FinalGrade on any run of the course.
 * Null when the program names no course.
 */
function passedCoursePairs(requirements: ProgramRequirements, userCondition: UserCondition): SqlFragment | null {
  const courseIds = coursesOfRequirements(requirements);
  if (courseIds.length === 0) return null;
  const inList = placeholders(courseIds);
  const byGrade = userCondition('f.user_id');
  if (requirements.hasExams) {
    const byCertificate = userCondition('cc.user_id');
    return {
      sql: `SELECT f.user_id, r.course_id FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
          WHERE ${byGrade.sql} AND f.passed AND r.start_date > ? AND r.course_id IN (${inList})
        UNION
        SELECT cc.user_id, cc.course_id FROM grades_micromasterscoursecertificate cc
          WHERE ${byCertificate.sql} AND cc.course_id IN (${inList})`,
      bindings: [...byGrade.bindings, NEW_COMBINED_FINAL_GRADES_DATE, ...courseIds, ...byCertificate.bindings, ...courseIds],
    };
  }
  return {
    sql: `SELECT f.user_id, r.course_id FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
      WHERE ${byGrade.sql} AND f.passed AND f.status = 'complete' AND r.course_id IN (${inList})`,
    bindings: [...byGrade.bindings, ...courseIds],
  };
}

/** One learner's passed courses of the program, as one json array of course ids. */
export function passedCoursesFact(requirements: ProgramRequirements, userId: number): SqlFragment {
  const pairs = passedCoursePairs(requirements, (column) => ({ sql: `${column} = ?`, bindings: [userId] }));
  if (!pairs) return { sql: `SELECT '[]'::json`, bindings: [] };
  return { sql: `SELECT COALESCE(json_agg(DISTINCT p.course_id), '[]'::json) FROM (${pairs.sql}) p`, bindings: pairs.bindings };
}

/** Many learners' passed courses of the program in one statement (learners with none are absent). */
export async function passedCoursesOfLearners(
  db: Db,
  requirements: ProgramRequirements,
  userIds: readonly number[],
): Promise<Map<number, Set<number>>> {
  const passed = new Map<number, Set<number>>();
  if (userIds.length === 0) return passed;
  const ids = JSON.stringify(userIds);
  const pairs = passedCoursePairs(requirements, (column) => ({
    sql: `${column} IN (SELECT value::integer FROM json_array_elements_text(?::json))`,
    bindings: [ids],
  }));
  if (!pairs) return passed;
  const rows = rawRows<{ user_id: number; course_id: number }>(await db.raw(pairs.sql, pairs.bindings));
  for (const r of rows) {
    const set = passed.get(r.user_id) ?? new Set<number>();
    set.add(r.course_id);
    passed.set(r.user_id, set);
  }
  return passed;
}

export function toCourseIdSet(value: unknown): Set<number> {
  return new Set(Array.isArray(value) ? value.map(Number) : []);
}
