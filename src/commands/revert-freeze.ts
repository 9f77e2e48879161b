import type { Command } from 'commander';
import { findCourseRunByKey } from '../domain/course-runs/course-run-store.js';
import { revertFreeze } from '../domain/final-grades/revert.js';
import { findSnapshot, listSnapshots, restoreFreeze } from '../domain/final-grades/restore.js';
import { OpsError } from '../domain/errors.js';
import { typedConfirmation } from './confirm.js';
import { contextOf } from './domain-context.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

export function registerRevertFreeze(program: Command): void {
  program
    .command('revert-freeze')
    .description('delete the frozen grades and grading status of a course run, after taking a snapshot (undo with restore-freeze)')
    .argument('<course-key>', 'edX course key')
    .option('--confirm <course-key>', 'the course key again, to confirm')
    .option('--keep-audited', 'keep FinalGrades edited in the Django admin (they cannot be deleted) and revert the rest')
    .option('--json', 'print JSON for scripts')
    .action((courseKey: string, options: { confirm?: string; keepAudited?: boolean; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const ctx = contextOf(services);
        await findCourseRunByKey(ctx.db, courseKey); // a bad key fails before anyone is asked to type it
        const confirm = await typedConfirmation(
          'revert-freeze',
          courseKey,
          options.confirm,
          `This deletes every FinalGrade of ${courseKey}`,
        );
        const result = await revertFreeze(ctx, courseKey, { confirm, keepAudited: options.keepAudited });
        if (out.json) return out.result(result);
        out.line(
          `reverted ${courseKey}: deleted ${result.deletedFinalGrades} FinalGrade(s)${result.deletedGradingStatus ? ' and the grading status' : ''}`,
        );
        out.line(`snapshot ${result.snapshotId} — undo with: gradeops restore-freeze ${result.snapshotId} --confirm ${courseKey}`);
        if (result.keptAuditedFinalGrades.length > 0)
          out.line(
            `kept ${result.keptAuditedFinalGrades.length} admin-edited FinalGrade(s): ${result.keptAuditedFinalGrades.map((k) => k.username).join(', ')}`,
          );
        const d = result.dependents;
        if (Object.values(d).some((n) => n > 0)) {
          out.line(
            'left in place (review by hand): ' +
              renderTable(
                ['combined grades', 'course certs', 'program certs', 'letters', 'exam authorizations'],
                [[d.combinedFinalGrades, d.courseCertificates, d.programCertificates, d.programLetters, d.examAuthorizations]],
              ),
          );
        }
      }),
    );

  program
    .command('restore-freeze')
    .description('bring back the FinalGrades and grading status saved by a revert-freeze snapshot')
    .argument('<snapshot-id>', 'the id printed by revert-freeze')
    .option('--confirm <course-key>', 'the course key of the snapshot, to confirm')
    .option('--json', 'print JSON for scripts')
    .action((snapshotId: string, options: { confirm?: string; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const id = Number(snapshotId);
        if (!Number.isInteger(id) || id < 1)
          throw new OpsError(
            'usage',
            `"${snapshotId}" is not a snapshot id`,
            'pass the number printed by revert-freeze (`gradeops snapshots` lists them)',
          );
        const ctx = contextOf(services);
        const snapshot = await findSnapshot(ctx, id);
        const confirm = await typedConfirmation(
          'restore-freeze',
          snapshot.course_key,
          options.confirm,
          `This restores snapshot ${id} of ${snapshot.course_key}`,
        );
        const result = await restoreFreeze(ctx, id, { confirm });
        if (out.json) return out.result(result);
        out.line(
          `restored snapshot ${id} of ${result.courseKey}: ${result.restoredFinalGrades} FinalGrade(s), grading status ${result.restoredGradingStatus ?? 'none'}, ${result.restoredFailedUsers} learner(s) on the failed list`,
        );
      }),
    );

  program
    .command('snapshots')
    .description('list revert snapshots')
    .argument('[course-key]', 'only this course run')
    .option('--json', 'print JSON for scripts')
    .action((courseKey: string | undefined, options: { json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const snapshots = await listSnapshots(contextOf(services), courseKey);
        if (out.json) return out.result({ snapshots });
        out.line(
          renderTable(
            ['id', 'taken (UTC)', 'by', 'course key', 'restored'],
            snapshots.map((s) => [
              s.id,
              s.createdOn.slice(0, 19),
              s.operator,
              s.courseKey,
              s.restoredOn ? `${s.restoredOn.slice(0, 19)} by ${s.restoredBy}` : 'no',
            ]),
          ),
        );
      }),
    );
}
