import { djangoTimeSql } from '../audit/django-json-sql.js';

// spec 1.8: grades_proctoredexamgrade.

/** spec 2.15: a grades_proctoredexamgrade row (table alias `g`) in the Django JSON form, as SQL. */
export function proctoredExamGradeJsonSql(g: string): string {
  return `jsonb_build_object('created_on', ${djangoTimeSql(`${g}.created_on`)}, 'updated_on', ${djangoTimeSql(`${g}.updated_on`)},
    'user', ${g}.user_id, 'course', ${g}.course_id, 'exam_run', ${g}.exam_run_id, 'exam_date', ${djangoTimeSql(`${g}.exam_date`)},
    'passing_score', ${g}.passing_score, 'score', ${g}.score, 'grade', ${g}.grade, 'client_authorization_id', ${g}.client_authorization_id,
    'row_data', ${g}.row_data, 'passed', ${g}.passed, 'percentage_grade', ${g}.percentage_grade, 'id', ${g}.id)`;
}

/** The stored values an import compares and writes (spec 2.12 step 6), in column order. */
export const IMPORTED_GRADE_COLUMNS = ['exam_date', 'passing_score', 'score', 'grade', 'row_data', 'passed', 'percentage_grade'] as const;
