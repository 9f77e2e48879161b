import type { Provider } from '../domain/edx/edx-settings.js';
import type { SeedCourse, SeedExamRun, SeedProgram, SeedRun } from './catalogue.js';
import { addDays, addHours, addMinutes, iso } from './dates.js';
import {
  certificateData,
  currentGradeData,
  enrollmentData,
  extraData,
  type EdxAccount,
  type EnrollmentMode,
  type TokenState,
} from './edx-payloads.js';
import { combinedGrade } from '../domain/combined-grades/combined-grade-formula.js';
import { computeFinalGrade, type FinalGradeValues } from './grading-rules.js';
import type { Rng } from './prng.js';
import type { RowBatch } from './row-batch.js';

// The per-learner rows, shared by the named cast and the generated learners. Every NOT NULL column
// is supplied: MicroMasters tables have no column defaults (spec 0).

export interface Person {
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  joined: Date;
  active?: boolean;
  fakeUser?: boolean;
}

export interface Learner {
  id: number;
  username: string;
  email: string;
  joined: Date;
  accounts: Partial<Record<Provider, EdxAccount>>;
}

export interface RunOutcome {
  mode: EnrollmentMode;
  /** The cached current grade's percent (0–1); null = enrolled but no cached current grade. */
  percent: number | null;
  /** Defaults to percent ≥ the course's edX cutoff. */
  passed?: boolean;
  /** A verified certificate is cached for edxorg runs that ended (spec 3.3: none on MITx Online). */
  certificate?: boolean;
  /**
   * The FinalGrade to store: computed from the cache (spec 2.4); `values` overrides part of it to
   * make a FinalGrade that disagrees with the cache (a relinked account, a conflicting pending row).
   */
  finalGrade?: { status: 'complete' | 'pending'; values?: Partial<FinalGradeValues>; at?: Date };
}

export interface StoredFinalGrade extends FinalGradeValues {
  status: 'complete' | 'pending';
  run: SeedRun;
}

export type ExamOutcome = { kind: 'taken'; score: number } | { kind: 'no-show' } | { kind: 'authorized' };

/**
 * What edX holds for a learner and the cache does not (spec E10: enrolled after the last
 * enrollment refresh). No MicroMasters table can hold it, so the seed records it in its audit row
 * and the simulated edX reads it from there. Objects are shaped as the edX APIs send them.
 */
export interface EdxOnlyRecord {
  provider: Provider;
  uid: string;
  courseKey: string;
  enrollment: object;
  certificate: object | null;
  currentGrade: object | null;
}

export class LearnerWriter {
  /** Rows edX has and the cache lacks, in the order they were made. */
  readonly edxOnly: EdxOnlyRecord[] = [];

  constructor(
    private readonly batch: RowBatch,
    private readonly now: Date,
  ) {}

  addLearner(person: Person, rng: Rng): Learner {
    const lastLogin = rng.chance(0.9) ? addMinutes(this.now, -rng.int(60, 90 * 24 * 60)) : null;
    const id = this.batch.add('auth_user', {
      // Django's unusable-password marker: these learners only ever log in through edX / MITx Online.
      password: `!${rng.token(40)}`,
      last_login: lastLogin && lastLogin > person.joined ? iso(lastLogin) : null,
      is_superuser: false,
      username: person.username,
      first_name: person.firstName,
      last_name: person.lastName,
      email: person.email,
      is_staff: false,
      is_active: person.active ?? true,
      date_joined: iso(person.joined),
    });
    this.batch.add('profiles_profile', { user_id: id, fake_user: person.fakeUser ?? false });
    return { id, username: person.username, email: person.email, joined: person.joined, accounts: {} };
  }

  /** One social-auth row per provider (spec 1.2: the login pipeline allows no second uid). */
  addAccount(learner: Learner, provider: Provider, uid: string, state: TokenState, rng: Rng, linked = learner.joined): void {
    const data = extraData(provider, state, this.now, rng) as { auth_time: number };
    const modified = new Date(Math.max(linked.getTime(), data.auth_time * 1000));
    this.batch.add('social_auth_usersocialauth', {
      user_id: learner.id,
      provider,
      uid,
      extra_data: JSON.stringify(data),
      created: iso(linked),
      modified: iso(modified),
    });
    learner.accounts[provider] = { uid, email: learner.email };
  }

  enrollInProgram(learner: Learner, program: SeedProgram, shareHash: string | null): void {
    this.batch.add('dashboard_programenrollment', { user_id: learner.id, program_id: program.id, share_hash: shareHash });
  }

  /**
   * The last successful cache refresh per cache type (spec 1.4); MITx Online has no certificates.
   * `when`: all of them at that instant (a learner who has not been back since) instead of recently.
   */
  addRefreshTimes(learner: Learner, rng: Rng, when?: Date): void {
    const at = () => iso(when ?? addMinutes(this.now, -rng.int(30, 72 * 60)));
    const edx = learner.accounts.edxorg !== undefined;
    const mitx = learner.accounts.mitxonline !== undefined;
    this.batch.add('dashboard_usercacherefreshtime', {
      user_id: learner.id,
      enrollment: edx ? at() : null,
      certificate: edx ? at() : null,
      current_grade: edx ? at() : null,
      enrollment_mitxonline: mitx ? at() : null,
      current_grade_mitxonline: mitx ? at() : null,
    });
  }

  /** Cached enrollment, current grade, certificate and FinalGrade of one learner in one run. */
  enrollInRun(learner: Learner, course: SeedCourse, run: SeedRun, outcome: RunOutcome, rng: Rng): StoredFinalGrade | null {
    const account = learner.accounts[run.backend];
    if (!account) throw new Error(`seed: ${learner.username} has no ${run.backend} account for ${run.key}`);
    // Enrolled after joining and after enrollment opened, but never in the future.
    const opened = Math.min(addDays(run.enrollmentStart, rng.int(0, 60)).getTime(), addDays(this.now, -1).getTime());
    const enrolled = new Date(Math.max(learner.joined.getTime(), opened));
    this.batch.add('dashboard_cachedenrollment', {
      user_id: learner.id,
      course_run_id: run.id,
      data: JSON.stringify(enrollmentData(run, account, outcome.mode, enrolled)),
    });
    if (outcome.percent === null) return null;
    const percent = outcome.percent;
    const passed = outcome.passed ?? percent >= course.cutoff;
    this.batch.add('dashboard_cachedcurrentgrade', {
      user_id: learner.id,
      course_run_id: run.id,
      data: JSON.stringify(currentGradeData(run, account, percent, passed)),
    });
    const ended = run.end.getTime() < this.now.getTime();
    const certificate =
      (outcome.certificate ?? (run.backend === 'edxorg' && outcome.mode === 'verified' && ended))
        ? { status: passed ? ('downloadable' as const) : ('notpassing' as const), type: 'verified' as const }
        : null;
    if (certificate) {
      this.batch.add('dashboard_cachedcertificate', {
        user_id: learner.id,
        course_run_id: run.id,
        data: JSON.stringify(certificateData(run, account, percent, passed, addDays(run.end, 3), rng)),
      });
    }
    if (!outcome.finalGrade) return null;
    const values = {
      ...computeFinalGrade(course.exam, { mode: outcome.mode, percent, passed, certificate }),
      ...outcome.finalGrade.values,
    };
    const at = outcome.finalGrade.at ?? addMinutes(addHours(run.freeze ?? run.end, 16), rng.int(1, 90));
    this.batch.add('grades_finalgrade', {
      user_id: learner.id,
      course_run_id: run.id,
      grade: values.grade,
      passed: values.passed,
      status: outcome.finalGrade.status,
      course_run_paid_on_edx: values.paid,
      created_on: iso(at),
      updated_on: iso(at),
    });
    return { ...values, status: outcome.finalGrade.status, run };
  }

  /**
   * The learner is enrolled in the run on edX (with a current grade and, for ended verified edX
   * runs, a certificate, as enrollInRun would cache them) but none of it is cached (spec E10).
   */
  enrollOnEdxOnly(
    learner: Learner,
    course: SeedCourse,
    run: SeedRun,
    outcome: { mode: EnrollmentMode; percent: number; passed?: boolean },
    enrolled: Date,
    rng: Rng,
  ): void {
    const account = learner.accounts[run.backend];
    if (!account) throw new Error(`seed: ${learner.username} has no ${run.backend} account for ${run.key}`);
    const passed = outcome.passed ?? outcome.percent >= course.cutoff;
    const ended = run.end.getTime() < this.now.getTime();
    const certificate = run.backend === 'edxorg' && outcome.mode === 'verified' && ended;
    this.edxOnly.push({
      provider: run.backend,
      uid: account.uid,
      courseKey: run.key,
      enrollment: enrollmentData(run, account, outcome.mode, enrolled),
      certificate: certificate ? certificateData(run, account, outcome.percent, passed, addDays(run.end, 3), rng) : null,
      currentGrade: currentGradeData(run, account, outcome.percent, passed),
    });
  }

  /**
   * An exam authorization (spec 1.7) and, when the exam was sat, the imported grade (spec 2.12):
   * `passed` comes from the CSV grade text, the row keeps the exam run's passing_score.
   */
  addExam(
    learner: Learner,
    course: SeedCourse,
    examRun: SeedExamRun,
    outcome: ExamOutcome,
    rng: Rng,
  ): { score: number; passed: boolean } | null {
    const authorizedAt = addDays(examRun.firstSchedulable, -rng.int(5, 20));
    const taken = outcome.kind !== 'authorized';
    const authId = this.batch.add('exams_examauthorization', {
      user_id: learner.id,
      course_id: course.id,
      exam_run_id: examRun.id,
      operation: 'add',
      status: 'success',
      exam_taken: taken,
      exam_no_show: outcome.kind === 'no-show',
      exam_coupon_url: null,
      exam_coupon_id: null,
      created_on: iso(authorizedAt),
      updated_on: iso(taken ? addDays(examRun.lastSchedulable, 3) : authorizedAt),
    });
    if (outcome.kind !== 'taken') return null;
    const score = outcome.score;
    const passed = score >= 60; // the proctor's verdict; may disagree with a 0.5 passing_score (E20)
    const grade = passed ? 'pass' : 'fail';
    const importedAt = addMinutes(addDays(examRun.lastSchedulable, rng.int(2, 6)), rng.int(0, 600));
    const account = learner.accounts.mitxonline ?? learner.accounts.edxorg!;
    const clientAuthorizationId = `mm-${authId}`;
    const rowData = {
      username: account.uid,
      course_id: String(course.id),
      no_show: '0',
      score: String(score),
      grade,
      client_authorization_id: clientAuthorizationId,
    };
    this.batch.add('grades_proctoredexamgrade', {
      user_id: learner.id,
      course_id: course.id,
      exam_run_id: examRun.id,
      exam_date: iso(importedAt),
      passing_score: examRun.passingScore,
      score,
      grade,
      client_authorization_id: clientAuthorizationId,
      row_data: JSON.stringify(rowData),
      passed,
      percentage_grade: score / 100,
      created_on: iso(importedAt),
      updated_on: iso(importedAt),
    });
    return { score, passed };
  }

  addCombinedGrade(learner: Learner, course: SeedCourse, finalGrade: number, examScore: number, at: Date): number {
    const grade = combinedGrade(finalGrade, examScore);
    this.batch.add('grades_combinedfinalgrade', {
      user_id: learner.id,
      course_id: course.id,
      grade,
      created_on: iso(at),
      updated_on: iso(at),
    });
    return grade;
  }

  /** Historical rows only: no code path in MicroMasters HEAD creates course certificates (spec 2.14). */
  addCourseCertificate(learner: Learner, course: SeedCourse, at: Date, rng: Rng): void {
    this.batch.add('grades_micromasterscoursecertificate', {
      hash: rng.hex(32),
      user_id: learner.id,
      course_id: course.id,
      created_on: iso(at),
      updated_on: iso(at),
    });
  }

  /** A program certificate and its letter (commendation), as generate_program_certificate + signal leave them. */
  addProgramCertificate(learner: Learner, program: SeedProgram, at: Date, rng: Rng): void {
    this.batch.add('grades_micromastersprogramcertificate', {
      hash: rng.hex(32),
      user_id: learner.id,
      program_id: program.id,
      created_on: iso(at),
      updated_on: iso(at),
    });
    this.batch.add('grades_micromastersprogramcommendation', {
      uuid: rng.uuid(),
      user_id: learner.id,
      program_id: program.id,
      is_active: true,
      created_on: iso(at),
      updated_on: iso(at),
    });
  }
}
