// spec 2.1: which courses and programs count as frozen, for the certificate and combined-grade
// commands (spec 2.11 populate, 2.14 certificates, E27).

/** Course.has_frozen_runs(): some non-discontinued run of the course has grading status complete. */
export function courseHasFrozenRunsSql(course: string): string {
  return `EXISTS (SELECT 1 FROM courses_courserun fr JOIN grades_courserungradingstatus fs ON fs.course_run_id = fr.id
    WHERE fr.course_id = ${course} AND NOT fr.is_discontinued AND fs.status = 'complete')`;
}

/**
 * Program.has_frozen_grades_for_all_courses(): every course of the program has a frozen run (a
 * course with no runs makes it false; a program without courses passes, as in the reference).
 */
export function programFrozenForAllCoursesSql(program: string): string {
  return `NOT EXISTS (SELECT 1 FROM courses_course fc WHERE fc.program_id = ${program} AND NOT ${courseHasFrozenRunsSql('fc.id')})`;
}

/** Course.has_exam: at least one exams_examrun references the course (spec 1.3). */
export function courseHasExamSql(course: string): string {
  return `EXISTS (SELECT 1 FROM exams_examrun xe WHERE xe.course_id = ${course})`;
}
