import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import type { DomainContext } from '../../src/domain/context.js';
import type { EdxSettings, Provider } from '../../src/domain/edx/edx-settings.js';
import { OpsError } from '../../src/domain/errors.js';
import { certificatePayload, currentGradePayload, enrollmentPayload } from '../../src/simulator/payloads.js';
import { createWorld, startSimulator, type RunningSimulator, type World } from '../../src/simulator/index.js';
import { freshDb } from './db.js';
import { freshRedis } from './redis.js';
import { CLAIM_KEY, clearClaimedDatabase } from './redis-claims.js';

// Small grading worlds for the domain tests: a program, courses (with or without an exam run),
// runs with a freeze date and a backend, and learners linked to a running edX / MITx Online
// simulator that knows exactly what their cached rows say (so a refresh changes nothing unless
// a test wants it to). Every row carries all its NOT NULL columns (spec 0).

const DAY = 24 * 3600 * 1000;
let counter = 0;
/** A name unique within the test process. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY);

export interface GradeSpec {
  percent: unknown;
  passed: unknown;
}
export interface CertificateSpec {
  type: string;
  status: string;
}

export interface LearnerSpec {
  username?: string;
  /** false: no social-auth row for the run's backend at all. */
  linked?: boolean;
  /** fresh: valid stored token (no refresh); needs-refresh: no timestamps, so it is refreshed first; none: no access_token. */
  token?: 'fresh' | 'needs-refresh' | 'none';
  /** The learner's enrollment mode on edX (null: not enrolled). */
  enrollment?: string | null;
  /** What edX says the current grade is (null: no grade record). */
  grade?: GradeSpec | null;
  /** What edX says the certificate is (null: none). */
  certificate?: CertificateSpec | null;
  /** Which rows are cached (default: what edX says; certificates only when verified, as a refresh would). */
  cache?: { enrollment?: boolean; grade?: boolean | GradeSpec; certificate?: boolean };
  /** Give the learner a profiles_profile row (needed for an exam profile). Default: none. */
  profile?: boolean;
  /** auth_user.is_active. Default: true. */
  active?: boolean;
}

export interface TestLearner {
  id: number;
  username: string;
  /** The remote (edX / MITx Online) username. */
  uid: string;
  accessToken: string;
  refreshToken: string;
}

export interface TestRun {
  id: number;
  key: string;
  backend: Provider;
  courseId: number | null;
}

export interface RunSpec {
  key?: string;
  /** null: no freeze date. Default: a week ago. */
  freezeDate?: Date | null;
  backend?: Provider;
  /** Put the run in a course with an exam run. */
  exam?: boolean;
  courseId?: number;
  /** A run with no course at all (spec E19). */
  noCourse?: boolean;
  startDate?: Date | null;
}

export interface ExamRunSpec {
  /** Default: 60 days ago. */
  firstSchedulable?: Date;
  /** Default: 30 days ago (not schedulable now). */
  lastSchedulable?: Date;
  /** Release instant of the exam run's grades. Default: 20 days ago (released). */
  gradesAvailable?: Date;
  passingScore?: number;
}

export interface ExamGradeSpec {
  score: number;
  /** Default: score ≥ 50. */
  passed?: boolean;
}

export interface TestWorld {
  db: Knex;
  redis: Redis;
  world: World;
  sims: Record<Provider, RunningSimulator>;
  programId: number;
  settings: EdxSettings;
  ctx(overrides?: Partial<DomainContext>): DomainContext;
  addCourse(options?: { exam?: boolean; title?: string; programId?: number }): Promise<number>;
  /** A program of its own (the world's `programId` collects every course added without one). */
  addProgram(options?: { title?: string }): Promise<number>;
  addExamRun(courseId: number, spec?: ExamRunSpec): Promise<number>;
  /** A grades_proctoredexamgrade row as the importer writes it (spec 2.12); examRunId null: never released. */
  addExamGrade(userId: number, courseId: number, examRunId: number | null, spec: ExamGradeSpec): Promise<number>;
  addElectivesSet(programId: number, requiredNumber: number, courseIds: number[]): Promise<number>;
  addRun(spec?: RunSpec): Promise<TestRun>;
  addLearner(run: TestRun, spec?: LearnerSpec): Promise<TestLearner>;
  /** Enrolls an existing learner (same backend account) in another run: edX state and cache rows as for addLearner. */
  enrollLearner(
    learner: TestLearner,
    run: TestRun,
    spec?: Pick<LearnerSpec, 'enrollment' | 'grade' | 'certificate' | 'cache'>,
  ): Promise<void>;
  addLearners(run: TestRun, count: number, spec?: LearnerSpec | ((i: number) => LearnerSpec)): Promise<TestLearner[]>;
  /** Resets counters and fault knobs of both simulators. */
  resetSimulators(): void;
  /** Every Redis key the world's code wrote (the test's claim on its Redis database left out). */
  redisKeys(): Promise<string[]>;
  /** Deletes those keys: the Redis database as the test found it. */
  clearRedis(): Promise<void>;
  close(): Promise<void>;
}

export function edxSettingsFor(urls: Partial<Record<Provider, string>>, overrides: Partial<EdxSettings> = {}): EdxSettings {
  return {
    baseUrls: urls,
    clients: {
      edxorg: { id: 'edx-client-id', secret: 'edx-client-secret-value' },
      mitxonline: { id: 'mitx-client-id', secret: 'mitx-client-secret-value' },
    },
    timeoutMs: 300,
    retries: 0,
    ...overrides,
  };
}

export async function createTestWorld(options: { timeoutMs?: number } = {}): Promise<TestWorld> {
  const db = await freshDb();
  const redis = await freshRedis();
  const world = createWorld();
  const edxorg = await startSimulator({ world, provider: 'edxorg', knobs: { latencyMs: 0 } });
  const mitxonline = await startSimulator({ world, provider: 'mitxonline', knobs: { latencyMs: 0 } });
  const sims = { edxorg, mitxonline };
  const settings = edxSettingsFor({ edxorg: edxorg.baseUrl, mitxonline: mitxonline.baseUrl }, { timeoutMs: options.timeoutMs ?? 300 });
  const now = new Date();
  const addProgram: TestWorld['addProgram'] = async ({ title } = {}) => {
    const [{ id }] = await db('courses_program')
      .insert({
        title: title ?? unique('Program '),
        live: true,
        description: null,
        financial_aid_availability: false,
        ga_tracking_id: '',
        num_required_courses: 1,
        price: 1000,
        created_on: now,
        updated_on: now,
      })
      .returning('id');
    return id;
  };
  const programId = await addProgram();
  let position = 0;

  const addExamRun: TestWorld['addExamRun'] = async (courseId, spec = {}) => {
    const at = new Date();
    const [{ id }] = await db('exams_examrun')
      .insert({
        created_on: at,
        updated_on: at,
        course_id: courseId,
        exam_series_code: unique('EX'),
        edx_exam_course_key: null,
        description: null,
        semester: null,
        date_first_schedulable: spec.firstSchedulable ?? daysFromNow(-60),
        date_last_schedulable: spec.lastSchedulable ?? daysFromNow(-30),
        date_first_eligible: '2020-01-01',
        date_last_eligible: '2020-02-01',
        date_grades_available: spec.gradesAvailable ?? daysFromNow(-20),
        passing_score: spec.passingScore ?? 0.5,
        authorized: false,
      })
      .returning('id');
    return id;
  };

  const addCourse: TestWorld['addCourse'] = async ({ exam = false, title, programId: inProgram } = {}) => {
    const [{ id }] = await db('courses_course')
      .insert({
        program_id: inProgram ?? programId,
        position_in_program: position++,
        edx_key: null,
        title: title ?? unique('Course '),
        should_display_progress: true,
      })
      .returning('id');
    if (exam) await addExamRun(id);
    return id;
  };

  const addExamGrade: TestWorld['addExamGrade'] = async (userId, courseId, examRunId, { score, passed = score >= 50 }) => {
    const at = new Date();
    const [{ id }] = await db('grades_proctoredexamgrade')
      .insert({
        created_on: at,
        updated_on: at,
        user_id: userId,
        course_id: courseId,
        exam_run_id: examRunId,
        exam_date: at,
        passing_score: 50,
        score,
        grade: passed ? 'pass' : 'fail',
        client_authorization_id: null,
        row_data: JSON.stringify({ score: String(score) }),
        passed,
        percentage_grade: score / 100,
      })
      .returning('id');
    return id;
  };

  const addElectivesSet: TestWorld['addElectivesSet'] = async (inProgram, requiredNumber, courseIds) => {
    const [{ id }] = await db('courses_electivesset')
      .insert({ program_id: inProgram, required_number: requiredNumber, title: unique('Electives ') })
      .returning('id');
    for (const courseId of courseIds) await db('courses_electivecourse').insert({ course_id: courseId, electives_set_id: id });
    return id;
  };

  const addRun: TestWorld['addRun'] = async (spec = {}) => {
    const backend = spec.backend ?? 'edxorg';
    const key = spec.key ?? `course-v1:${backend === 'edxorg' ? 'MITx' : 'MITxT'}+${unique('C')}+1T2024`;
    const courseId = spec.noCourse ? null : (spec.courseId ?? (await addCourse({ exam: spec.exam })));
    const [{ id }] = await db('courses_courserun')
      .insert({
        title: `Run ${key}`,
        edx_course_key: key,
        course_id: courseId,
        courseware_backend: backend,
        is_discontinued: false,
        start_date: spec.startDate === undefined ? new Date('2024-01-10T00:00:00Z') : spec.startDate,
        end_date: new Date('2024-05-10T00:00:00Z'),
        freeze_grade_date: spec.freezeDate === undefined ? daysFromNow(-7) : spec.freezeDate,
      })
      .returning('id');
    world[backend].addCourse(key);
    return { id, key, backend, courseId };
  };

  const enrollLearner: TestWorld['enrollLearner'] = async (learner, run, spec = {}) => {
    const { id, uid } = learner;
    const sim = world[run.backend];
    const simUser = sim.users.get(uid)!;
    const mode = spec.enrollment === undefined ? 'verified' : spec.enrollment;
    const grade = spec.grade === undefined ? { percent: 0.8, passed: true } : spec.grade;
    const certificate = spec.certificate ?? null;
    const cache = spec.cache ?? {};
    if (mode !== null) {
      sim.enroll(uid, run.key, { mode });
      if (cache.enrollment !== false) {
        const data = enrollmentPayload(sim, simUser, run.key, sim.enrollments.get(uid)!.get(run.key)!);
        await db('dashboard_cachedenrollment').insert({ user_id: id, course_run_id: run.id, data: JSON.stringify(data) });
      }
    }
    if (grade !== null) sim.setGrade(uid, run.key, { percent: grade.percent, passed: grade.passed });
    else sim.setGrade(uid, run.key, null);
    const cachedGrade = typeof cache.grade === 'object' ? cache.grade : cache.grade === false ? null : grade;
    if (cachedGrade !== null && (mode !== null || typeof cache.grade === 'object')) {
      const data = currentGradePayload(simUser, run.key, { percent: cachedGrade.percent, passed: cachedGrade.passed, letterGrade: null });
      await db('dashboard_cachedcurrentgrade').insert({ user_id: id, course_run_id: run.id, data: JSON.stringify(data) });
    }
    if (certificate) {
      sim.setCertificate(uid, run.key, { certificateType: certificate.type, status: certificate.status });
      const cacheIt = cache.certificate ?? (run.backend === 'edxorg' && certificate.type === 'verified');
      if (cacheIt) {
        const data = certificatePayload(simUser, run.key, sim.certificates.get(uid)!.get(run.key)!);
        await db('dashboard_cachedcertificate').insert({ user_id: id, course_run_id: run.id, data: JSON.stringify(data) });
      }
    }
  };

  const addLearner: TestWorld['addLearner'] = async (run, spec = {}) => {
    const username = spec.username ?? unique('learner');
    const uid = `${username}-remote`;
    const accessToken = `${uid}-access-${unique('t')}-token`;
    const refreshToken = `${uid}-refresh-token`;
    const at = new Date();
    const [{ id }] = await db('auth_user')
      .insert({
        password: '!',
        is_superuser: false,
        username,
        first_name: '',
        last_name: '',
        email: `${username}@example.com`,
        is_staff: false,
        is_active: spec.active ?? true,
        date_joined: at,
      })
      .returning('id');
    if (spec.profile) await db('profiles_profile').insert({ user_id: id, fake_user: false });
    const sim = world[run.backend];
    sim.addUser({ username: uid, accessToken, accessTokenExpiresAtMs: Date.now() + DAY, refreshToken });
    if (spec.linked !== false) {
      const token = spec.token ?? 'fresh';
      const extraData: Record<string, unknown> =
        token === 'none'
          ? { refresh_token: refreshToken }
          : token === 'needs-refresh'
            ? { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer' }
            : {
                access_token: accessToken,
                refresh_token: refreshToken,
                expires_in: 86_400,
                token_type: 'Bearer',
                scope: 'read write',
                auth_time: Math.floor(at.getTime() / 1000),
                updated_at: at.getTime() / 1000,
              };
      await db('social_auth_usersocialauth').insert({
        user_id: id,
        provider: run.backend,
        uid,
        extra_data: JSON.stringify(extraData),
        created: at,
        modified: at,
      });
    }
    const learner = { id, username, uid, accessToken, refreshToken };
    await enrollLearner(learner, run, spec);
    return learner;
  };

  const addLearners: TestWorld['addLearners'] = async (run, count, spec) => {
    const out: TestLearner[] = [];
    for (let i = 0; i < count; i++) out.push(await addLearner(run, typeof spec === 'function' ? spec(i) : spec));
    return out;
  };

  const resetSimulators = () => {
    for (const sim of Object.values(sims)) {
      sim.stats.reset();
      sim.knobs.faults.clear();
      sim.knobs.unauthorizedUsers.clear();
      sim.knobs.latencyMs = 0;
      sim.knobs.errorRate = 0;
      sim.knobs.timeoutRate = 0;
    }
  };

  return {
    db,
    redis,
    world,
    sims,
    programId,
    settings,
    ctx: (overrides = {}) => ({ db, redis, edx: settings, operator: 'test-operator', ...overrides }),
    addCourse,
    addProgram,
    addExamRun,
    addExamGrade,
    addElectivesSet,
    addRun,
    addLearner,
    enrollLearner,
    addLearners,
    resetSimulators,
    redisKeys: async () => (await redis.keys('*')).filter((k) => k !== CLAIM_KEY),
    clearRedis: () => clearClaimedDatabase(redis),
    async close() {
      await Promise.all([edxorg.close(), mitxonline.close()]);
    },
  };
}

/** The OpsError a promise rejects with (fails the test when it resolves or throws something else). */
export async function opsErrorOf(promise: Promise<unknown>): Promise<OpsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof OpsError)) {
    throw new Error(
      `expected an OpsError, got ${error === null ? 'success' : error instanceof Error ? error.stack : JSON.stringify(error)}`,
    );
  }
  return error;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw rows, asserted column by column in the tests
export async function finalGradesOf(db: Knex, runId: number): Promise<Array<Record<string, any>>> {
  return db('grades_finalgrade').where('course_run_id', runId).orderBy('id');
}

export async function gradingStatusOf(db: Knex, runId: number): Promise<string | null> {
  const row = await db('grades_courserungradingstatus').where('course_run_id', runId).first('status');
  return row?.status ?? null;
}

export async function failedListOf(redis: Redis, key: string): Promise<string[]> {
  return redis.lrange(`failed_users_${key}`, 0, -1);
}

/** Inserts a FinalGrade as MicroMasters (or a test) would, every NOT NULL column given. */
export async function insertFinalGrade(
  db: Knex,
  userId: number,
  runId: number,
  values: { grade: number; passed: boolean; status: 'pending' | 'complete'; paid?: boolean; at?: Date | string },
): Promise<number> {
  const at = values.at ?? new Date();
  const [{ id }] = await db('grades_finalgrade')
    .insert({
      user_id: userId,
      course_run_id: runId,
      grade: values.grade,
      passed: values.passed,
      status: values.status,
      course_run_paid_on_edx: values.paid ?? false,
      created_on: at,
      updated_on: at,
    })
    .returning('id');
  return id;
}
