import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { rawRows } from '../db.js';
import { OpsError } from '../errors.js';
import { releasedPassingExamGrades } from '../exams/exam-grade-rules.js';
import { lockWorkflow } from '../exams/workflow-lock.js';
import { courseHasExamSql, courseHasFrozenRunsSql } from '../programs/frozen-courses.js';
import { updateOrCreateCombinedFinalGrades, type CombinedFinalGradeChange, type CombinedFinalGradeCounts } from './combined-final-grade.js';

// spec 2.11 populate_combined_final_grades: for each course of a live program that has a frozen run
// and an exam run, every learner with a passed, released proctored exam grade in it gets
// update_or_create_combined_final_grade. gradeops writes only the grades that change (created or
// a different value), so running it twice changes nothing the second time.

export interface PopulateCourse extends CombinedFinalGradeCounts {
  courseId: number;
  course: string;
}

export interface PopulateResult extends CombinedFinalGradeCounts {
  courses: PopulateCourse[];
  changes: CombinedFinalGradeChange[];
}

interface CourseRow {
  id: number;
  course: string;
  live: boolean;
  frozen: boolean;
  has_exam: boolean;
}

/** `courseId`: one course, which must qualify (the CLI's --course); else every course that does. */
export async function populateCombinedFinalGrades(ctx: DomainContext, options: { courseId?: number } = {}): Promise<PopulateResult> {
  return ctx.db.transaction(async (trx) => {
    const now = nowOf(ctx);
    await lockWorkflow(trx, 'combined-grades');
    const courses = rawRows<CourseRow>(
      await trx.raw(
        `SELECT c.id, COALESCE(c.course_number, c.title) AS course, p.live, ${courseHasFrozenRunsSql('c.id')} AS frozen, ${courseHasExamSql('c.id')} AS has_exam
          FROM courses_course c JOIN courses_program p ON p.id = c.program_id
          ${options.courseId === undefined ? '' : 'WHERE c.id = ?'} ORDER BY c.id`,
        options.courseId === undefined ? [] : [options.courseId],
      ),
    );
    if (options.courseId !== undefined) {
      const [course] = courses;
      if (!course)
        throw new OpsError(
          'unknown-course',
          `no course has the id ${options.courseId}`,
          'use the MicroMasters course id (courses_course.id)',
        );
      const why = !course.has_exam
        ? 'has no exam run, so it has no combined final grade (spec 2.11)'
        : !course.live
          ? 'is in a program that is not live'
          : !course.frozen
            ? 'has no frozen course run yet (freeze a run first)'
            : null;
      if (why)
        throw new OpsError(
          'nothing-to-do',
          `course ${course.course} (id ${course.id}) ${why}`,
          'leave out --course to populate every course that qualifies',
        );
    }
    const eligible = courses.filter((c) => c.live && c.frozen && c.has_exam);
    const result: PopulateResult = { created: 0, updated: 0, unchanged: 0, skipped: 0, courses: [], changes: [] };
    if (eligible.length === 0) return result;
    const released = releasedPassingExamGrades('g', 'e');
    const combined = await updateOrCreateCombinedFinalGrades(
      { ...ctx, db: trx },
      {
        sql: `SELECT g.user_id, g.course_id FROM ${released.from}
          WHERE g.course_id IN (SELECT value::integer FROM json_array_elements_text(?::json)) AND ${released.where}`,
        bindings: [JSON.stringify(eligible.map((c) => c.id)), now],
      },
      now,
    );
    for (const c of eligible) {
      const counts = combined.byCourse.get(c.id) ?? { created: 0, updated: 0, unchanged: 0, skipped: 0 };
      result.courses.push({ courseId: c.id, course: c.course, ...counts });
    }
    return {
      ...result,
      created: combined.created,
      updated: combined.updated,
      unchanged: combined.unchanged,
      skipped: combined.skipped,
      changes: combined.changes,
    };
  });
}
