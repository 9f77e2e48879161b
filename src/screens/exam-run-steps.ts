import type { ExamGradeImportResult } from '../domain/exams/exam-grade-import.js';
import type { ExamProjection } from '../domain/exams/exam-projection.js';
import type { ExamRunState } from '../domain/exams/exam-run-state.js';
import type { CheckedFile } from './exam-run-actions.js';

// The runbook of one exam run as the console's checklist (issue 9 §7), in the runbook's order. The
// facts (loaded, released, combined grades, certificates) come from the database through
// examRunState; what only this session knows (the file checked, the projection reviewed, the
// counts confirmed) lives in the screen and is passed in. Pure, so the order rules read in one place.

export type StepId = 'received' | 'reviewed' | 'confirmed' | 'loaded' | 'released' | 'combined' | 'certificates';

/** What this console session knows that the database does not. */
export interface ExamSession {
  /** The CSV entered on the screen, read and checked: what importing it would do now. */
  file: CheckedFile | null;
  projection: ExamProjection | null;
  reviewed: boolean;
  confirmed: boolean;
}

export const NO_SESSION: ExamSession = { file: null, projection: null, reviewed: false, confirmed: false };

export interface ExamStep {
  id: StepId;
  label: string;
  outcome: 'ok' | 'warn' | 'info' | 'fail';
  detail: string;
  /** It writes (refused in read-only). */
  writes: boolean;
  /** What Enter does on it ("load the grades"). */
  action: string;
  /** Why Enter cannot do it yet (an earlier step first); null when it can. */
  blocked: string | null;
  done: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Importing the checked file again would change nothing. */
export function fileLoaded(check: ExamGradeImportResult): boolean {
  return check.created === 0 && check.modified === 0 && check.noShows.marked === 0;
}

function checkText(c: ExamGradeImportResult): string {
  const kind = c.format === 'exam-grades' ? '' : ' (adjustment)';
  const noShows = c.noShows.marked > 0 ? `, ${plural(c.noShows.marked, 'no-show')}` : '';
  return `${c.fileName}${kind}: ${plural(c.rows, 'row')} checked; would create ${c.created}, modify ${c.modified}, keep ${c.unchanged}${noShows}`;
}

export function examSteps(state: ExamRunState, session: ExamSession): ExamStep[] {
  const { file } = session;
  const inFile = file ? file.check.examRuns.some((e) => e.id === state.id) : false;
  const received: ExamStep = {
    id: 'received',
    label: 'adjusted grades received',
    outcome: file ? (inFile ? 'ok' : 'warn') : 'info',
    detail: file
      ? inFile
        ? checkText(file.check)
        : `${file.check.fileName} writes no grade of this exam run (it writes exam run ${file.check.examRuns.map((e) => e.id).join(', ') || 'none'})`
      : 'no file yet: Enter, then the CSV path',
    writes: false,
    action: file ? 'check another file' : 'enter the CSV path',
    blocked: null,
    done: Boolean(file && inFile),
  };
  const projection = session.projection;
  const reviewed: ExamStep = {
    id: 'reviewed',
    label: 'projection reviewed',
    outcome: session.reviewed ? 'ok' : 'info',
    detail:
      session.reviewed && projection
        ? `program certificates ${projection.before.programCertificates} → ${projection.after.programCertificates}; ${plural(projection.changed.length, 'course outcome')} change`
        : 'certificates now and after the file (writes nothing)',
    writes: false,
    action: 'show the projection',
    blocked: received.done ? null : 'check a file of this exam run first',
    done: session.reviewed,
  };
  const confirmed: ExamStep = {
    id: 'confirmed',
    label: 'counts confirmed',
    outcome: session.confirmed ? 'ok' : 'info',
    detail: session.confirmed ? 'confirmed in this session' : 'type the number of changed outcomes',
    writes: false,
    action: 'confirm the counts',
    blocked: session.reviewed ? null : 'review the projection first',
    done: session.confirmed,
  };
  const loadedNow = file && inFile ? fileLoaded(file.check) : state.grades.total > 0;
  const gradesText = `${plural(state.grades.total, 'grade')} (${state.grades.passed} passed) · ${state.authorizedLearners} authorized`;
  const loaded: ExamStep = {
    id: 'loaded',
    label: 'loaded',
    outcome: loadedNow ? 'ok' : 'info',
    detail: file && inFile ? (loadedNow ? `file loaded · ${gradesText}` : `file not loaded yet · ${gradesText}`) : gradesText,
    writes: true,
    action: 'load the grades (exams import)',
    blocked: !file || !inFile ? 'check a file of this exam run first' : session.confirmed ? null : 'confirm the counts first',
    done: Boolean(loadedNow),
  };
  const releasedAt = state.dateGradesAvailable.toISOString().slice(0, 16).replace('T', ' ');
  const released: ExamStep = {
    id: 'released',
    label: 'released',
    outcome: state.released ? 'ok' : 'info',
    detail: state.released ? `grades available since ${releasedAt} UTC` : `not yet: grades available ${releasedAt} UTC`,
    writes: true,
    action: 'release now (exams release)',
    blocked:
      state.grades.total === 0 ? 'no grades to release: load them first' : file && inFile && !loadedNow ? 'load the file first' : null,
    done: state.released,
  };
  const populate = state.populate;
  const combinedDone = state.released && populate.applicable && populate.pending.created + populate.pending.updated === 0;
  const combined: ExamStep = {
    id: 'combined',
    label: 'combined grades updated',
    outcome: !populate.applicable ? 'warn' : combinedDone ? 'ok' : 'info',
    detail: !populate.applicable
      ? populate.reason
      : !state.released
        ? 'after the release'
        : combinedDone
          ? `up to date: ${state.combinedGrades.present} of ${state.combinedGrades.due} passers have one`
          : `would create ${populate.pending.created}, update ${populate.pending.updated}`,
    writes: true,
    action: 'populate (combined-grades populate --course)',
    blocked: !populate.applicable ? populate.reason : state.released ? null : 'release the exam run first',
    done: combinedDone,
  };
  const generate = state.generate;
  const pendingCertificates = generate.applicable ? generate.pending.courseCertificates + generate.pending.programCertificates : 0;
  const certificatesDone = state.released && generate.applicable && pendingCertificates === 0;
  const certificates: ExamStep = {
    id: 'certificates',
    label: 'certificates generated',
    outcome: !generate.applicable ? 'warn' : certificatesDone ? 'ok' : 'info',
    detail: !generate.applicable
      ? generate.reason
      : !state.released
        ? 'after the release and the combined grades'
        : certificatesDone
          ? `up to date: ${state.certificates.courseCertificates} passers certified, ${plural(state.certificates.programCertificates, 'program certificate')}`
          : `would create ${generate.pending.courseCertificates} course and ${generate.pending.programCertificates} program certificates`,
    writes: true,
    action: 'generate (certificates generate --program)',
    blocked: !generate.applicable
      ? generate.reason
      : !state.released
        ? 'release the exam run first'
        : populate.applicable && !combinedDone
          ? 'update the combined grades first'
          : null,
    done: certificatesDone,
  };
  return [received, reviewed, confirmed, loaded, released, combined, certificates];
}

/** The step to start on: the first one not done. */
export function firstOpenStep(steps: readonly ExamStep[]): number {
  const i = steps.findIndex((s) => !s.done);
  return i === -1 ? steps.length - 1 : i;
}
