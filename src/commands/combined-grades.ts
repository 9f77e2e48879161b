import type { Command } from 'commander';
import { populateCombinedFinalGrades } from '../domain/combined-grades/populate-combined-final-grades.js';
import { contextOf } from './domain-context.js';
import { parseId } from './exam-args.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

// `gradeops combined-grades populate`: spec 2.11 populate_combined_final_grades, audited and idempotent.

export function registerCombinedGrades(program: Command): void {
  const combined = program.command('combined-grades').description('combined final grades of exam courses (40 % final grade, 60 % exam)');
  combined
    .command('populate')
    .description('create or update the combined final grade of every learner with a released, passing exam grade')
    .option('--course <id>', 'only this course (courses_course.id)', parseId)
    .option('--json', 'print JSON for scripts')
    .action((options: { course?: number; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const r = await populateCombinedFinalGrades(contextOf(services), { courseId: options.course });
        if (out.json)
          return out.result({ created: r.created, updated: r.updated, unchanged: r.unchanged, skipped: r.skipped, courses: r.courses });
        out.line(`combined final grades: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
        if (r.skipped > 0)
          out.line(`${r.skipped} learner(s) with a released passing exam grade have no complete, passed FinalGrade in that course yet`);
        if (r.courses.length > 0)
          out.line(
            renderTable(
              ['course', 'created', 'updated', 'unchanged', 'no passed FinalGrade'],
              r.courses.map((c) => [c.course, c.created, c.updated, c.unchanged, c.skipped]),
            ),
          );
        else out.line('no course qualifies (a live program, a frozen run and an exam run)');
      }),
    );
}
