import type { Command } from 'commander';
import { listCourseRuns } from '../domain/course-runs/course-run-store.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the course runs: course, key, backend, freeze date, can-freeze, grading status')
    .option('--json', 'print JSON for scripts')
    .action((options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const now = new Date();
        const runs = (await listCourseRuns(services.db)).map((r) => ({
          courseKey: r.courseKey,
          title: r.title,
          course: r.courseTitle,
          program: r.programTitle,
          backend: r.backend,
          freezeDate: r.freezeGradeDate?.toISOString() ?? null,
          canFreeze: r.freezeGradeDate !== null && now.getTime() > r.freezeGradeDate.getTime(),
          gradingStatus: r.gradingStatus,
          discontinued: r.isDiscontinued,
          hasExam: r.courseHasExam,
        }));
        if (out.json) return out.result({ runs });
        out.line(
          renderTable(
            ['course', 'course key', 'backend', 'freeze date (UTC)', 'can freeze', 'grading status'],
            runs.map((r) => [
              r.course,
              r.courseKey,
              r.backend,
              r.freezeDate ? r.freezeDate.slice(0, 16).replace('T', ' ') : 'missing',
              r.freezeDate === null ? 'no (no date)' : r.canFreeze ? 'yes' : 'not yet',
              r.gradingStatus.replace('_', ' '),
            ]),
          ),
        );
        out.line(`${runs.length} course runs`);
      }),
    );
}
