import type { CombinedFinalGrade, CombinedFinalGradeProjection } from '../domain/combined-grades/combined-final-grade.js';
import type { CourseRun } from '../domain/course-runs/course-run-store.js';
import type { Db } from '../domain/db.js';
import type { Diagnosis } from '../domain/diagnosis/diagnose.js';
import type { LearnerRefreshResult } from '../domain/edx/learner-refresh.js';
import type { ComputedFinalGrade } from '../domain/final-grades/compute-final-grade.js';
import type { FinalGrade } from '../domain/final-grades/final-grade-store.js';
import type { FreezeUserResult } from '../domain/final-grades/freeze-user.js';
import type { ResyncResult } from '../domain/final-grades/resync.js';
import type { FreezeCounts, FreezeStatus } from '../domain/freeze/freeze-status.js';
import type { Learner } from '../domain/users.js';

// The single source of the REPL's types: `.help`, `.doc`, `.type` and the type check of every
// entry read this file through the TypeScript compiler API, so what an operator is told is what
// the code declares. The first line of each comment is the `.help` line.

export type { CourseRun, Learner, FinalGrade, ComputedFinalGrade, FreezeStatus, Diagnosis, ResyncResult, LearnerRefreshResult };

/** A learner: a MicroMasters username, an email, a user id, or a Learner returned by `user()`. */
export type UserRef = string | number | Learner;

/** A course run: its edX course key, or a CourseRun returned by `run()`. */
export type RunRef = string | CourseRun;

/** A course: its id, the course key of one of its runs, or a CourseRun returned by `run()`. */
export type CourseRef = number | string | CourseRun;

/** A learner on the failed list of a run, with the reason of their last attempt. */
export type FailedUser = FreezeCounts['failed'][number];

/** A learner's combined final grade in a course: the stored row and what it would be now. */
export interface CombinedGradeView {
  username: string;
  courseId: number;
  /** The grades_combinedfinalgrade row, or null when none exists. */
  stored: CombinedFinalGrade | null;
  /** spec 2.11 applied to today's data: the grade, or why there would be none. */
  now: CombinedFinalGradeProjection;
}

export interface ConsoleContext {
  /**
   * The database (knex): `await db('auth_user').where({ username: 'alice' })`.
   * In a --sandbox session it is the session's transaction, rolled back on exit. On a
   * non-embedded database without --write, the database session itself is read-only.
   */
  db: Db;

  /**
   * Finds a learner by MicroMasters username, email or user id.
   * A number is a user id; a string is a username, else an email (case-insensitive).
   * Throws when nobody matches, or when an email belongs to several accounts.
   */
  user(usernameOrEmailOrId: string | number): Promise<Learner>;

  /**
   * Finds a course run by its edX course key (case-sensitive).
   * `course-v1:ORG+COURSE+RUN` or the legacy `ORG/COURSE/RUN`; `gradeops runs` lists them.
   */
  run(courseKey: string): Promise<CourseRun>;

  /**
   * The learner's FinalGrade in a course run, or null when there is none.
   * Reads grades_finalgrade only; nothing is refreshed or computed.
   */
  finalGrade(user: UserRef, run: RunRef): Promise<FinalGrade | null>;

  /**
   * Computes the final grade from the learner's cached edX data, without writing anything.
   * spec 2.4: the rule depends on whether the run's course has an exam. The result names the
   * rule, its inputs and an explanation line by line. The cache is not refreshed first: call
   * `refreshEdxCache(user, run)` for today's edX data.
   */
  computeFinalGrade(user: UserRef, run: RunRef): Promise<ComputedFinalGrade>;

  /**
   * Refreshes the learner's cached edX data (enrollments, certificates, current grades), like `gradeops refresh`. Writes.
   * With a run, only that run's backend (edX or MITx Online); without, every backend the
   * learner has linked. The result lists what changed row by row. The cache is written in one
   * audited transaction once every edX answer is in; a token edX rotated is saved at once.
   */
  refreshEdxCache(user: UserRef, run?: RunRef): Promise<LearnerRefreshResult>;

  /**
   * Refreshes, computes and freezes one learner's final grade in a run, like `gradeops freeze-user`. Writes.
   * The run's freeze date must have passed. An existing, different FinalGrade is never
   * overwritten (use `resync`); every failure throws with its reason. The new FinalGrade gets
   * an audit row naming the operator, and its side effects (spec 2.8) run.
   */
  freezeUser(user: UserRef, run: RunRef): Promise<Exclude<FreezeUserResult, { outcome: 'failed' }>>;

  /**
   * Refreshes the learner's edX data and shows how their FinalGrade differs; `{ apply: true }` writes it.
   * Like `gradeops resync`: the refresh always writes the cache; applying updates grade,
   * passed, paid-on-edX and status in one audited save, then runs the side effects (spec 2.8).
   */
  resync(user: UserRef, run: RunRef, options?: { apply?: boolean }): Promise<ResyncResult>;

  /**
   * The freeze status of a course run, like `gradeops freeze-status`.
   * Grading status, eligible / frozen / failed / remaining (they add up), and the running job.
   */
  freezeStatus(run: RunRef): Promise<FreezeStatus>;

  /**
   * The learners on a run's failed list who are still not frozen, with the reason of their last attempt.
   */
  failedUsers(run: RunRef): Promise<FailedUser[]>;

  /**
   * Every check of the runbook for one learner in one run, in order, and the next step.
   * Like `gradeops diagnose`: account, token, cached enrollment and grade, certificate,
   * computed grade, FinalGrade, failed-freeze record, run status. Read-only.
   */
  diagnose(user: UserRef, run: RunRef): Promise<Diagnosis>;

  /**
   * The learner's combined final grade in a course (exam courses): the stored row and today's value.
   * spec 2.11: round(best passed FinalGrade × 40 + best released passed exam score × 0.6, 1).
   * Read-only: a freeze or an applied resync updates it.
   */
  combinedGrade(user: UserRef, course: CourseRef): Promise<CombinedGradeView>;
}
