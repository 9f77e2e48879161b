import type { Command } from 'commander';
import { importExamGrades, type ExamGradeImportResult } from '../domain/exams/exam-grade-import.js';
import { projectExamGradeFile, type ExamProjection } from '../domain/exams/exam-projection.js';
import { releaseExamRun, type ReleaseResult } from '../domain/exams/exam-run-release.js';
import { contextOf } from './domain-context.js';
import { readExamGradeFile } from '../domain/exams/exam-grade-file.js';
import { listingBadRows, parseId, parseInstant } from './exam-args.js';
import type { Output } from './output.js';
import { runCommand } from './run-command.js';
import { renderTable } from './table.js';

// `gradeops exams project | import | release`: the proctored exam grade workflow (issue 9).

const FORMAT_NAMES = { 'exam-grades': 'exam-grade import file', adjustment: 'adjustment file' } as const;

export function registerExams(program: Command): void {
  const exams = program.command('exams').description('proctored exam grades: project a CSV, import it, release an exam run');

  exams
    .command('project')
    .description("what a CSV of exam grades would do to the program's course and program certificates; writes nothing")
    .argument('<csv>', 'the exam-grade import file or the adjustment (curve) file')
    .option('--json', 'print JSON for scripts')
    .action(async (file: string, options: { json?: boolean }) => {
      // A missing file is refused before any database is opened.
      const { text, name } = await readExamGradeFile(file);
      await runCommand(options, async (services, out) => {
        const p = await listingBadRows(out, () => projectExamGradeFile(contextOf(services), text, name));
        if (out.json) return out.result({ before: p.before, after: p.after, changed: p.changed });
        printProjection(out, p, file);
      });
    });

  exams
    .command('import')
    .description('import a CSV of exam grades (either file) in one transaction; a bad row anywhere writes nothing')
    .argument('<csv>', 'the exam-grade import file or the adjustment (curve) file')
    .option('--json', 'print JSON for scripts')
    .action(async (file: string, options: { json?: boolean }) => {
      const { text, name } = await readExamGradeFile(file);
      await runCommand(options, async (services, out) => {
        const r = await listingBadRows(out, () => importExamGrades(contextOf(services), text, name));
        if (out.json) return out.result(r);
        printImport(out, r);
      });
    });

  exams
    .command('release')
    .description("release an exam run's grades (set its grades-available date); existing combined grades follow")
    .argument('<exam-run-id>', 'exams_examrun.id', parseId)
    .option('--at <iso-datetime>', 'the instant the grades become available (default: now)', parseInstant)
    .option('--json', 'print JSON for scripts')
    .action((examRunId: number, options: { at?: Date; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const r = await releaseExamRun(contextOf(services), examRunId, { at: options.at });
        if (out.json) return out.result(r);
        printRelease(out, r);
      }),
    );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? String(n) : '';
}

function printImport(out: Output, r: ExamGradeImportResult): void {
  out.line(
    `imported ${r.fileName} (${FORMAT_NAMES[r.format]}, ${r.rows} rows): ${r.created} created, ${r.modified} modified, ${r.unchanged} unchanged` +
      (r.noShows.marked + r.noShows.unchanged > 0 ? `; no-shows: ${r.noShows.marked} marked, ${r.noShows.unchanged} already marked` : ''),
  );
  for (const w of r.warnings) out.line(`warning: ${w}`);
  const unreleased = r.examRuns.filter((e) => !e.released);
  if (unreleased.length > 0)
    out.line(
      `not released yet: ${unreleased.map((e) => `exam run ${e.id} (${e.course}, grades available ${e.dateGradesAvailable})`).join(', ')}`,
    );
  out.line(
    `next: ${unreleased.map((e) => `gradeops exams release ${e.id}`).join(', ')}${unreleased.length > 0 ? ', then ' : ''}gradeops combined-grades populate and gradeops certificates generate`,
  );
}

function printRelease(out: Output, r: ReleaseResult): void {
  const what = `exam run ${r.examRunId} (${r.course}, ${r.grades.total} grades, ${r.grades.passed} passed)`;
  if (r.outcome === 'already-released') {
    out.line(`${what} was already released on ${r.before}: nothing changed`);
    return;
  }
  if (r.outcome === 'unchanged') {
    out.line(`${what} already has grades available from ${r.before}: nothing changed`);
    return;
  }
  out.line(
    r.outcome === 'released'
      ? `${what} released: grades available from ${r.after} (was ${r.before})`
      : `${what} scheduled: grades become available at ${r.after} (was ${r.before}); nothing recomputes them then — run combined-grades populate after that instant`,
  );
  const c = r.combinedFinalGrades;
  out.line(`existing combined final grades recomputed (spec 2.8): ${c.updated} updated, ${c.unchanged} unchanged`);
  if (r.outcome === 'released') out.line('next: gradeops combined-grades populate, then gradeops certificates generate');
}

const SHOWN_CHANGES = 50;

function printProjection(out: Output, p: ExamProjection, file: string): void {
  const s = p.steps;
  out.line(`program: ${p.program.title} (id ${p.program.id}, ${p.program.courses} courses)`);
  out.line(
    `${s.import.fileName} (${FORMAT_NAMES[s.import.format]}, ${s.import.rows} rows) would make ${s.import.created} created, ${s.import.modified} modified, ${s.import.unchanged} unchanged grades`,
  );
  for (const w of s.import.warnings) out.line(`warning: ${w}`);
  const released = s.releases.filter((r) => r.outcome === 'released');
  if (released.length > 0) out.line(`released now: ${released.map((r) => `exam run ${r.examRunId} (${r.course})`).join(', ')}`);
  out.line(
    `certificates: ${s.certificates.courseCertificates.created} course certificates and ${s.certificates.programCertificates.created} program certificates created`,
  );
  out.line();
  const rows = Object.keys(p.after.courseCertificates).map((n) => {
    const before = p.before.courseCertificates[n] ?? 0;
    const after = p.after.courseCertificates[n] ?? 0;
    return [`${n} course certificate${n === '1' ? '' : 's'}`, before, after, signed(after - before)];
  });
  rows.push([
    'a program certificate',
    p.before.programCertificates,
    p.after.programCertificates,
    signed(p.after.programCertificates - p.before.programCertificates),
  ]);
  out.line(renderTable(['learners holding', 'now', 'after', 'change'], rows));
  if (p.changed.length > 0) {
    out.line(`${p.changed.length} course outcome${p.changed.length === 1 ? '' : 's'} change (course certificate held before → after):`);
    out.line(
      renderTable(
        ['username', 'course', 'before', 'after'],
        p.changed
          .slice(0, SHOWN_CHANGES)
          .map((ch) => [ch.username, ch.course, ch.before ? 'certificate' : '—', ch.after ? 'certificate' : '—']),
      ),
    );
    if (p.changed.length > SHOWN_CHANGES) out.line(`… and ${p.changed.length - SHOWN_CHANGES} more (--json lists them all)`);
  } else out.line('no learner gains or loses a course certificate');
  const toRelease = s.import.examRuns.filter((e) => !e.released);
  out.line(
    `nothing was written. To apply: gradeops exams import ${file}` +
      `${toRelease.map((e) => `, gradeops exams release ${e.id}`).join('')}, gradeops combined-grades populate, gradeops certificates generate`,
  );
}
