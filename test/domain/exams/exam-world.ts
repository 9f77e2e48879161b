import type { Knex } from 'knex';
import type { DomainContext } from '../../../src/domain/context.js';
import { freshDb } from '../../helpers/db.js';

// Small exam worlds for the domain tests of issue 9: programs, courses, frozen runs, exam runs,
// learners with MITx Online accounts, authorizations, FinalGrades, exam grades and certificates.
// Every row carries all its NOT NULL columns (spec 0). No edX is involved, so no simulator.

const DAY = 24 * 3600 * 1000;
export const NOW = new Date('2026-06-15T12:00:00Z');
export const daysFrom = (at: Date, days: number) => new Date(at.getTime() + days * DAY);

let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}`;

export interface ExamWorld {
  db: Knex;
  ctx(now?: Date): DomainContext;
  addProgram(options?: { financialAid?: boolean; live?: boolean }): Promise<number>;
  addCourse(programId: number, options?: { number?: string }): Promise<number>;
  addElectivesSet(programId: number, requiredNumber: number, courseIds: number[]): Promise<number>;
  /** A course run; frozen (grading status complete) unless told otherwise. */
  addRun(courseId: number, options?: { start?: Date; frozen?: boolean; discontinued?: boolean }): Promise<number>;
  addExamRun(
    courseId: number,
    options?: { firstSchedulable?: Date; lastSchedulable?: Date; gradesAvailable?: Date; passingScore?: number },
  ): Promise<number>;
  /** A learner; `uid` gives them a MITx Online account with that username. */
  addLearner(options?: {
    username?: string;
    uid?: string | null;
    enrolIn?: number[];
  }): Promise<{ id: number; username: string; uid: string }>;
  addFinalGrade(userId: number, runId: number, grade: number, passed: boolean, status?: 'complete' | 'pending'): Promise<number>;
  authorize(userId: number, courseId: number, examRunId: number, options?: { status?: string; examTaken?: boolean }): Promise<number>;
  addExamGrade(
    userId: number,
    courseId: number,
    examRunId: number | null,
    score: number,
    options?: { passed?: boolean; passingScore?: number },
  ): Promise<number>;
  addCourseCertificate(userId: number, courseId: number): Promise<number>;
  addCombinedGrade(userId: number, courseId: number, grade: number): Promise<number>;
}

export async function createExamWorld(): Promise<ExamWorld> {
  const db = await freshDb();
  const at = daysFrom(NOW, -400);
  let position = 0;
  const insert = async (table: string, row: Record<string, unknown>): Promise<number> => {
    const [{ id }] = await db(table).insert(row).returning('id');
    return id as number;
  };
  return {
    db,
    ctx: (now = NOW) => ({ db, redis: null as never, edx: null as never, operator: 'exam-tester', now: () => now }),
    addProgram: ({ financialAid = true, live = true } = {}) =>
      insert('courses_program', {
        title: unique('Program '),
        live,
        description: null,
        financial_aid_availability: financialAid,
        ga_tracking_id: '',
        num_required_courses: 1,
        price: 1000,
        created_on: at,
        updated_on: at,
      }),
    addCourse: (programId, { number } = {}) =>
      insert('courses_course', {
        program_id: programId,
        position_in_program: position++,
        edx_key: null,
        title: unique('Course '),
        course_number: number ?? unique('C'),
        should_display_progress: true,
      }),
    async addElectivesSet(programId, requiredNumber, courseIds) {
      const id = await insert('courses_electivesset', {
        program_id: programId,
        required_number: requiredNumber,
        title: unique('Electives '),
      });
      for (const courseId of courseIds) await db('courses_electivecourse').insert({ course_id: courseId, electives_set_id: id });
      return id;
    },
    async addRun(courseId, { start = new Date('2024-01-10T00:00:00Z'), frozen = true, discontinued = false } = {}) {
      const key = `course-v1:MITx+${unique('R')}+1T2024`;
      const id = await insert('courses_courserun', {
        title: key,
        edx_course_key: key,
        course_id: courseId,
        courseware_backend: 'edxorg',
        is_discontinued: discontinued,
        start_date: start,
        end_date: daysFrom(start, 98),
        freeze_grade_date: daysFrom(start, 112),
      });
      if (frozen)
        await db('grades_courserungradingstatus').insert({ course_run_id: id, status: 'complete', created_on: at, updated_on: at });
      return id;
    },
    addExamRun: (
      courseId,
      {
        firstSchedulable = daysFrom(NOW, -60),
        lastSchedulable = daysFrom(NOW, -40),
        gradesAvailable = daysFrom(NOW, 10),
        passingScore = 60,
      } = {},
    ) =>
      insert('exams_examrun', {
        created_on: at,
        updated_on: at,
        course_id: courseId,
        exam_series_code: unique('EX'),
        edx_exam_course_key: null,
        description: null,
        semester: null,
        date_first_schedulable: firstSchedulable,
        date_last_schedulable: lastSchedulable,
        date_first_eligible: '2026-01-01',
        date_last_eligible: '2026-02-01',
        date_grades_available: gradesAvailable,
        passing_score: passingScore,
        authorized: true,
      }),
    async addLearner({ username = unique('learner'), uid, enrolIn = [] } = {}) {
      const id = await insert('auth_user', {
        password: '!',
        is_superuser: false,
        username,
        first_name: '',
        last_name: '',
        email: `${username}@example.com`,
        is_staff: false,
        is_active: true,
        date_joined: at,
      });
      const remote = uid === undefined ? `${username}.mitx` : uid;
      if (remote !== null) {
        await db('social_auth_usersocialauth').insert({
          user_id: id,
          provider: 'mitxonline',
          uid: remote,
          extra_data: '{}',
          created: at,
          modified: at,
        });
      }
      for (const programId of enrolIn)
        await db('dashboard_programenrollment').insert({ user_id: id, program_id: programId, share_hash: null });
      return { id, username, uid: remote ?? '' };
    },
    addFinalGrade: (userId, runId, grade, passed, status = 'complete') =>
      insert('grades_finalgrade', {
        user_id: userId,
        course_run_id: runId,
        grade,
        passed,
        status,
        course_run_paid_on_edx: true,
        created_on: at,
        updated_on: at,
      }),
    authorize: (userId, courseId, examRunId, { status = 'success', examTaken = false } = {}) =>
      insert('exams_examauthorization', {
        created_on: at,
        updated_on: at,
        user_id: userId,
        course_id: courseId,
        exam_run_id: examRunId,
        operation: 'add',
        status,
        exam_taken: examTaken,
        exam_no_show: false,
        exam_coupon_url: null,
        exam_coupon_id: null,
      }),
    addExamGrade: (userId, courseId, examRunId, score, { passed = score >= 60, passingScore = 60 } = {}) =>
      insert('grades_proctoredexamgrade', {
        created_on: at,
        updated_on: at,
        user_id: userId,
        course_id: courseId,
        exam_run_id: examRunId,
        exam_date: at,
        passing_score: passingScore,
        score,
        grade: passed ? 'pass' : 'fail',
        client_authorization_id: null,
        row_data: JSON.stringify({ score: String(score) }),
        passed,
        percentage_grade: score / 100,
      }),
    addCourseCertificate: (userId, courseId) =>
      insert('grades_micromasterscoursecertificate', {
        created_on: at,
        updated_on: at,
        hash: unique('h').padEnd(32, '0'),
        user_id: userId,
        course_id: courseId,
      }),
    addCombinedGrade: (userId, courseId, grade) =>
      insert('grades_combinedfinalgrade', { created_on: at, updated_on: at, user_id: userId, course_id: courseId, grade }),
  };
}
