import type { Provider } from '../domain/edx/edx-settings.js';
import {
  EXAM_PHASES,
  FREEZE_AFTER_END_DAYS,
  LEGACY_RUN_START,
  PROGRAMS,
  RUN_LENGTH_DAYS,
  RUN_PHASES,
  RUN_START_OFFSETS,
  type CourseData,
  type ExamPhase,
  type RunPhase,
} from './catalogue-data.js';
import { addDays, addHours, iso, isoDay, termCode } from './dates.js';
import type { RowBatch } from './row-batch.js';

// Builds the fixed-size catalogue (programs, courses, electives, course runs, grading statuses,
// exam runs) and keeps an in-memory view of it for the learner generator.

export interface SeedRun {
  id: number;
  key: string;
  title: string;
  courseId: number;
  phase: RunPhase;
  backend: Provider;
  enrollmentStart: Date;
  start: Date;
  end: Date;
  freeze: Date | null;
  /** grades_courserungradingstatus.status, or null when there is no row (freeze never started). */
  status: 'complete' | 'pending' | null;
  discontinued: boolean;
}

export interface SeedExamRun {
  id: number;
  key: string;
  courseId: number;
  phase: ExamPhase;
  firstSchedulable: Date;
  lastSchedulable: Date;
  gradesAvailable: Date;
  passingScore: number;
  /** spec 2.12: released iff date_grades_available ≤ now. */
  released: boolean;
}

export interface SeedCourse extends CourseData {
  id: number;
  programId: number;
  runs: SeedRun[];
  examRuns: SeedExamRun[];
}

export interface SeedProgram {
  id: number;
  title: string;
  financialAid: boolean;
  hasExams: boolean;
  courses: SeedCourse[];
}

export interface Catalogue {
  programs: SeedProgram[];
  course(number: string): SeedCourse;
  run(number: string, phase: RunPhase): SeedRun;
  examRun(number: string, phase: ExamPhase): SeedExamRun;
}

const PROGRAM_CREATED = new Date('2019-06-03T15:00:00Z');

export function buildCatalogue(batch: RowBatch, now: Date): Catalogue {
  const keys = new Set<string>();
  const programs = PROGRAMS.map((data, p) => {
    const programId = batch.add('courses_program', {
      title: data.title,
      live: true,
      description: data.description,
      financial_aid_availability: data.financialAid,
      ga_tracking_id: '',
      num_required_courses: data.courses.filter((c) => !c.elective).length + data.electivesRequired,
      price: '1000.00',
      exam_attempts_first_date: null,
      exam_attempts_second_date: null,
      created_on: iso(PROGRAM_CREATED),
      updated_on: iso(PROGRAM_CREATED),
    });
    const electivesSetId = batch.add('courses_electivesset', {
      program_id: programId,
      required_number: data.electivesRequired,
      title: data.electivesTitle,
    });
    const courses = data.courses.map((course, i): SeedCourse => {
      const courseId = batch.add('courses_course', {
        program_id: programId,
        position_in_program: i + 1,
        edx_key: `MITx+${course.number}`,
        title: course.title,
        course_number: course.number,
        thumbnail: null,
        description: `${course.title} (MITx ${course.number}).`,
        prerequisites: null,
        contact_email: null,
        should_display_progress: true,
      });
      if (course.elective) batch.add('courses_electivecourse', { course_id: courseId, electives_set_id: electivesSetId });
      const runs = RUN_PHASES.map((phase) => addRun(batch, keys, now, course, courseId, phase, p, i));
      const examRuns = course.exam ? EXAM_PHASES.map((phase) => addExamRun(batch, keys, now, course, courseId, phase, i)) : [];
      return { ...course, id: courseId, programId, runs, examRuns };
    });
    return { id: programId, title: data.title, financialAid: data.financialAid, hasExams: courses.some((c) => c.exam), courses };
  });
  return catalogueView(programs);
}

function catalogueView(programs: SeedProgram[]): Catalogue {
  const courses = new Map(programs.flatMap((p) => p.courses).map((c) => [c.number, c]));
  const course = (number: string) => {
    const found = courses.get(number);
    if (!found) throw new Error(`seed catalogue has no course ${number}`);
    return found;
  };
  return {
    programs,
    course,
    run: (number, phase) => course(number).runs.find((r) => r.phase === phase)!,
    examRun: (number, phase) => {
      const found = course(number).examRuns.find((r) => r.phase === phase);
      if (!found) throw new Error(`seed course ${number} has no ${phase} exam run`);
      return found;
    },
  };
}

/** Varies backend, freeze date and grading status by position so every case of spec 2.1 / 4 E1–E9 exists. */
function runShape(phase: RunPhase, program: number, index: number) {
  const backend: Provider =
    (phase === 'recent' && index % 3 === 2) || (phase === 'current' && index % 2 === 1) || (phase === 'upcoming' && index % 3 === 1)
      ? 'mitxonline'
      : 'edxorg';
  let status: SeedRun['status'] = null;
  if (phase === 'legacy' || phase === 'older') status = 'complete';
  if (phase === 'past') status = index % 2 === 0 ? 'complete' : index === 1 ? 'pending' : null;
  // E1: an ended run nobody gave a freeze date; upcoming runs are often not scheduled yet.
  const missingFreeze = (phase === 'past' && program === 0 && index === 3) || (phase === 'upcoming' && index % 2 === 0);
  // E9: a discontinued run that still has a past freeze date.
  const discontinued = phase === 'past' && program === 1 && index === 5;
  return { backend, status, missingFreeze, discontinued };
}

function addRun(
  batch: RowBatch,
  keys: Set<string>,
  now: Date,
  course: CourseData,
  courseId: number,
  phase: RunPhase,
  program: number,
  index: number,
): SeedRun {
  const shape = runShape(phase, program, index);
  const start = phase === 'legacy' ? LEGACY_RUN_START : addDays(now, RUN_START_OFFSETS[phase]);
  const end = addDays(start, RUN_LENGTH_DAYS);
  const enrollmentStart = addDays(start, -150); // MITx opens enrollment months ahead
  const freeze = shape.missingFreeze ? null : addDays(end, FREEZE_AFTER_END_DAYS);
  const term = termCode(start);
  // MITx Online keys use the MITxT org, so the same course number never collides across backends.
  const key = uniqueKey(keys, `course-v1:${shape.backend === 'mitxonline' ? 'MITxT' : 'MITx'}+${course.number}+${term}`);
  const title = `${course.title} (${term})`;
  const enrollmentUrl =
    shape.backend === 'mitxonline' ? `https://learn.mitxonline.mit.edu/courses/${key}/` : `https://courses.edx.org/courses/${key}/about`;
  const id = batch.add('courses_courserun', {
    title,
    edx_course_key: key,
    course_id: courseId,
    enrollment_start: iso(enrollmentStart),
    start_date: iso(start),
    enrollment_end: iso(addDays(start, 30)),
    end_date: iso(end),
    upgrade_deadline: iso(addDays(end, -21)),
    freeze_grade_date: freeze ? iso(freeze) : null,
    fuzzy_start_date: null,
    fuzzy_enrollment_start_date: null,
    enrollment_url: enrollmentUrl,
    prerequisites: null,
    courseware_backend: shape.backend,
    is_discontinued: shape.discontinued,
  });
  if (shape.status && freeze) {
    const started = addHours(freeze, 16); // the beat task runs at 16:xx UTC (spec 2.6)
    batch.add('grades_courserungradingstatus', {
      course_run_id: id,
      status: shape.status,
      created_on: iso(started),
      updated_on: iso(shape.status === 'complete' ? addHours(started, 2) : started),
    });
  }
  return {
    id,
    key,
    title,
    courseId,
    phase,
    backend: shape.backend,
    enrollmentStart,
    start,
    end,
    freeze,
    status: shape.status,
    discontinued: shape.discontinued,
  };
}

function examWindow(phase: ExamPhase, now: Date) {
  if (phase === 'legacy') {
    return { first: new Date('2022-01-10T00:00:00Z'), last: new Date('2022-01-24T00:00:00Z'), grades: new Date('2022-02-21T00:00:00Z') };
  }
  // Windows start more than a term apart, so the semester codes in their keys differ.
  const firstOffset = { past: -210, recent: -50, upcoming: 75 }[phase];
  // recent: the exam is over but its grades are still embargoed (unreleased, spec 2.12).
  const gradesOffset = { past: -160, recent: 12, upcoming: 125 }[phase];
  return { first: addDays(now, firstOffset), last: addDays(now, firstOffset + 20), grades: addDays(now, gradesOffset) };
}

function addExamRun(
  batch: RowBatch,
  keys: Set<string>,
  now: Date,
  course: CourseData,
  courseId: number,
  phase: ExamPhase,
  index: number,
): SeedExamRun {
  const w = examWindow(phase, now);
  const semester = termCode(w.first);
  const key = uniqueKey(keys, `course-v1:MITx+${course.number.replace(/x$/, '')}PEx+${semester}`);
  // E20: one legacy exam run kept the model default 0.5 while scores are on 0–100.
  const passingScore = phase === 'legacy' && index === 2 ? 0.5 : 60;
  const id = batch.add('exams_examrun', {
    course_id: courseId,
    exam_series_code: `MITx_${course.number}`,
    edx_exam_course_key: key,
    description: `Proctored exam for ${course.title}`,
    semester,
    date_first_schedulable: iso(w.first),
    date_last_schedulable: iso(w.last),
    date_first_eligible: isoDay(addDays(w.first, 7)),
    date_last_eligible: isoDay(addDays(w.last, 7)),
    date_grades_available: iso(w.grades),
    passing_score: passingScore,
    authorized: phase !== 'upcoming',
    created_on: iso(addDays(w.first, -60)),
    updated_on: iso(addDays(w.first, -60)),
  });
  return {
    id,
    key,
    courseId,
    phase,
    firstSchedulable: w.first,
    lastSchedulable: w.last,
    gradesAvailable: w.grades,
    passingScore,
    released: w.grades.getTime() <= now.getTime(),
  };
}

function uniqueKey(keys: Set<string>, key: string): string {
  let candidate = key;
  for (let n = 0; keys.has(candidate); n++) candidate = `${key}${String.fromCharCode(97 + n)}`;
  keys.add(candidate);
  return candidate;
}
