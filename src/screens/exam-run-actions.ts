import type { DomainContext } from '../domain/context.js';
import { populateCombinedFinalGrades } from '../domain/combined-grades/populate-combined-final-grades.js';
import { generateCertificates } from '../domain/exams/certificates.js';
import { checkExamGradeFile, readExamGradeFile } from '../domain/exams/exam-grade-file.js';
import { importExamGrades, type ExamGradeImportResult } from '../domain/exams/exam-grade-import.js';
import { releaseExamRun } from '../domain/exams/exam-run-release.js';
import type { ExamRunState } from '../domain/exams/exam-run-state.js';

// The checklist's writes: each the very domain function its CLI command runs (`exams import`,
// `exams release`, `combined-grades populate --course`, `certificates generate --program`), with
// the operator of the console in every audit row (ctx.operator), and its result in one line.

export type WriteStep = 'loaded' | 'released' | 'combined' | 'certificates';

export interface CheckedFile {
  path: string;
  /** The text as read and checked: what is projected is what gets imported, even if the file changes on disk. */
  text: string;
  check: ExamGradeImportResult;
}

/** Reads the file at `path` and checks every row (nothing written); a bad row throws with every line listed. */
export async function readAndCheck(ctx: DomainContext, path: string): Promise<CheckedFile> {
  const { text, name } = await readExamGradeFile(path);
  return { path, text, check: await checkExamGradeFile(ctx, text, name) };
}

export interface WriteOutcome {
  step: WriteStep;
  line: string;
  /** The file checked again after an import: what a second import would do (nothing). */
  recheck?: ExamGradeImportResult;
}

export async function runWrite(ctx: DomainContext, step: WriteStep, state: ExamRunState, file: CheckedFile | null): Promise<WriteOutcome> {
  switch (step) {
    case 'loaded': {
      if (!file) throw new Error('no checked file to load');
      const r = await importExamGrades(ctx, file.text, file.check.fileName);
      const noShows = r.noShows.marked + r.noShows.unchanged > 0 ? `; no-shows: ${r.noShows.marked} marked` : '';
      return {
        step,
        line: `imported ${r.fileName}: ${r.created} created, ${r.modified} modified, ${r.unchanged} unchanged${noShows}`,
        recheck: await checkExamGradeFile(ctx, file.text, file.check.fileName),
      };
    }
    case 'released': {
      const r = await releaseExamRun(ctx, state.id);
      if (r.outcome === 'already-released')
        return { step, line: `exam run ${r.examRunId} was already released on ${r.before}: nothing changed` };
      const c = r.combinedFinalGrades;
      return {
        step,
        line: `exam run ${r.examRunId} (${r.course}) released: grades available from ${r.after}; existing combined grades ${c.updated} updated, ${c.unchanged} unchanged`,
      };
    }
    case 'combined': {
      const r = await populateCombinedFinalGrades(ctx, { courseId: state.courseId });
      return {
        step,
        line: `combined final grades of ${state.course}: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`,
      };
    }
    case 'certificates': {
      const r = await generateCertificates(ctx, { programId: state.programId });
      return {
        step,
        line: `certificates of ${state.program}: ${r.courseCertificates.created} course certificates and ${r.programCertificates.created} program certificates created`,
      };
    }
  }
}

/** What the y/n question says before each write. */
export const WRITE_QUESTIONS: Record<WriteStep, (state: ExamRunState, file: CheckedFile | null) => string> = {
  loaded: (_s, f) =>
    `Import ${f?.check.fileName ?? 'the file'} in one transaction (${f?.check.created ?? 0} created, ${f?.check.modified ?? 0} modified, each audited)?`,
  released: (s) => `Release exam run ${s.id} (${s.course}) now? Its grades count from now on; existing combined grades are recomputed.`,
  combined: (s) => `Populate the combined final grades of ${s.course} (40 % final grade, 60 % exam; audited)?`,
  certificates: (s) => `Generate the course and program certificates of ${s.program} (audited)?`,
};
