import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { inRolledBackTransaction, rawRows } from '../../src/domain/db.js';
import type { SeedSummary } from '../../src/seed/demo-world.js';
import { loadWorldFromDatabase } from '../../src/simulator/index.js';
import { seededDb } from './seeded-db.js';

// Every situation the brief and spec sections 2 and 4 ask the demo world to contain, queried from
// the database (with the real clock: the default `now` is today, so "past" and "future" hold).

let db: Knex;
let summary: SeedSummary;

beforeAll(async () => {
  ({ db, summary } = await seededDb());
});

async function rows<T>(sql: string, bindings: unknown[] = []): Promise<T[]> {
  return rawRows<T>(await db.raw(sql, bindings as Knex.RawBinding[]));
}

async function num(sql: string, bindings: unknown[] = []): Promise<number> {
  const [row] = await rows<{ n: unknown }>(sql, bindings);
  return Number(row.n);
}

async function userId(username: string): Promise<number> {
  return (await db('auth_user').where({ username }).first('id')).id;
}

describe('the catalogue', () => {
  it('has one program with proctored exams and one without, 5+ courses and an electives set each', async () => {
    const programs = await rows<{ id: number; courses: number; exam_runs: number; electives: number }>(`
      SELECT p.id, count(DISTINCT c.id)::int AS courses, count(DISTINCT e.id)::int AS exam_runs,
             count(DISTINCT ec.id)::int AS electives
      FROM courses_program p JOIN courses_course c ON c.program_id = p.id
      LEFT JOIN exams_examrun e ON e.course_id = c.id
      LEFT JOIN courses_electivecourse ec ON ec.course_id = c.id
      JOIN courses_electivesset es ON es.program_id = p.id
      GROUP BY p.id ORDER BY p.id`);
    expect(programs).toHaveLength(2);
    expect(programs.filter((p) => p.exam_runs > 0)).toHaveLength(1);
    expect(programs.filter((p) => p.exam_runs === 0)).toHaveLength(1);
    for (const p of programs) {
      expect(p.courses).toBeGreaterThanOrEqual(5);
      expect(p.electives).toBeGreaterThan(0);
    }
  });

  it('has several runs per course with realistic, unique course keys on both backends', async () => {
    expect(await num('SELECT min(n) AS n FROM (SELECT count(*) AS n FROM courses_courserun GROUP BY course_id) t')).toBeGreaterThanOrEqual(
      3,
    );
    const runs = await db('courses_courserun').select('edx_course_key', 'courseware_backend');
    for (const r of runs) expect(r.edx_course_key).toMatch(/^course-v1:MITxT?\+[A-Za-z0-9.]+\+[123]T20\d\d$/);
    expect(new Set(runs.map((r) => r.edx_course_key)).size).toBe(runs.length);
    const edx = runs.filter((r) => r.courseware_backend === 'edxorg').length;
    expect(edx).toBeGreaterThan(runs.length / 2);
    expect(runs.length - edx).toBeGreaterThan(0);
  });

  it('has freeze dates in the past, in the future and missing, including an ended run without one', async () => {
    expect(await num('SELECT count(*) AS n FROM courses_courserun WHERE freeze_grade_date < now()')).toBeGreaterThan(0);
    expect(await num('SELECT count(*) AS n FROM courses_courserun WHERE freeze_grade_date > now()')).toBeGreaterThan(0);
    expect(await num('SELECT count(*) AS n FROM courses_courserun WHERE freeze_grade_date IS NULL AND end_date < now()')).toBeGreaterThan(
      0,
    );
    const highlighted = await db('courses_courserun').where({ edx_course_key: summary.highlights.missingFreezeDateRun }).first();
    expect(highlighted.freeze_grade_date).toBeNull();
  });

  it('has start dates on both sides of the 2022-09-01 combined-grade cut-off', async () => {
    expect(await num(`SELECT count(*) AS n FROM courses_courserun WHERE start_date < '2022-09-01T00:00:00Z'`)).toBeGreaterThan(0);
    expect(await num(`SELECT count(*) AS n FROM courses_courserun WHERE start_date > '2022-09-01T00:00:00Z'`)).toBeGreaterThan(0);
  });

  it('has a run already frozen: grading status complete and only complete FinalGrades', async () => {
    const run = await db('courses_courserun').where({ edx_course_key: summary.highlights.completeRun }).first('id');
    expect((await db('grades_courserungradingstatus').where({ course_run_id: run.id }).first()).status).toBe('complete');
    const statuses = await db('grades_finalgrade').where({ course_run_id: run.id }).distinct().pluck('status');
    expect(statuses).toEqual(['complete']);
  });

  it('has a freezable run (past freeze date, no grading status) with candidates', async () => {
    const run = await db('courses_courserun').where({ edx_course_key: summary.highlights.freezableRun }).first();
    expect(run.freeze_grade_date.getTime()).toBeLessThan(Date.now());
    expect(await db('grades_courserungradingstatus').where({ course_run_id: run.id }).first()).toBeUndefined();
    // spec 2.2: enrollment ∩ current grade − complete FinalGrade.
    const candidates = await num(
      `
      SELECT count(*) AS n FROM dashboard_cachedenrollment e
      JOIN dashboard_cachedcurrentgrade g ON g.user_id = e.user_id AND g.course_run_id = e.course_run_id
      WHERE e.course_run_id = ? AND NOT EXISTS (SELECT 1 FROM grades_finalgrade f
        WHERE f.user_id = e.user_id AND f.course_run_id = e.course_run_id AND f.status = 'complete')`,
      [run.id],
    );
    expect(candidates).toBeGreaterThanOrEqual(5);
  });

  it('has exam runs with released and unreleased grades, passing scores on 0–100 and one on 0.5', async () => {
    expect(
      await num(`SELECT count(DISTINCT e.id) AS n FROM exams_examrun e JOIN grades_proctoredexamgrade g ON g.exam_run_id = e.id
                      WHERE e.date_grades_available < now()`),
    ).toBeGreaterThan(0);
    expect(
      await num(`SELECT count(DISTINCT e.id) AS n FROM exams_examrun e JOIN grades_proctoredexamgrade g ON g.exam_run_id = e.id
                      WHERE e.date_grades_available > now()`),
    ).toBeGreaterThan(0);
    const scores = await db('exams_examrun').pluck('passing_score');
    expect(scores.filter((s: number) => s === 0.5)).toHaveLength(1);
    expect(scores.filter((s: number) => s === 60).length).toBe(scores.length - 1);
  });
});

describe('learners', () => {
  it('puts the cast in: named learners, profiles, program enrollments, refresh times for most', async () => {
    const users = await num('SELECT count(*) AS n FROM auth_user');
    expect(users).toBe(60);
    expect(await num('SELECT count(*) AS n FROM profiles_profile')).toBe(users);
    expect(await num('SELECT count(*) AS n FROM dashboard_usercacherefreshtime')).toBeGreaterThan(users * 0.8);
    expect(await num('SELECT count(DISTINCT user_id) AS n FROM dashboard_programenrollment')).toBeGreaterThan(users * 0.6);
    const names = await db('auth_user').pluck('username');
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'learner00001']) expect(names).toContain(name);
  });

  it('links edX / MITx Online accounts whose uid is a remote username, not the MicroMasters one', async () => {
    expect(
      await num(`SELECT count(*) AS n FROM social_auth_usersocialauth s JOIN auth_user u ON u.id = s.user_id WHERE s.uid = u.username`),
    ).toBe(0);
    const providers = await db('social_auth_usersocialauth').distinct().pluck('provider');
    expect(providers.sort()).toEqual(['edxorg', 'mitxonline']);
    const tokens = await db('social_auth_usersocialauth').select('extra_data');
    const access = tokens.map((t) => t.extra_data.access_token as string);
    expect(new Set(access).size).toBe(access.length);
    for (const token of access) expect(token).toMatch(/^[A-Za-z0-9]{30}$/);
  });

  it('has valid, expired-but-refreshable and revoked tokens', async () => {
    const seededAt = new Date(summary.now).getTime() / 1000;
    const edx = (await db('social_auth_usersocialauth').where({ provider: 'edxorg' }).select('user_id', 'extra_data')).map((r) => ({
      user: r.user_id as number,
      data: r.extra_data as { refresh_token: string; updated_at: number; expires_in: number },
    }));
    const revoked = edx.filter((r) => r.data.refresh_token.startsWith('revoked-'));
    // spec E13: refreshed once now − updated_at ≥ expires_in − 5 min.
    const stale = edx.filter((r) => seededAt - r.data.updated_at >= r.data.expires_in - 300);
    const expired = stale.filter((r) => !r.data.refresh_token.startsWith('revoked-'));
    expect(edx.length - stale.length).toBeGreaterThan(edx.length / 2);
    expect(expired.map((r) => r.user)).toContain(await userId('heidi'));
    expect(revoked.map((r) => r.user)).toContain(await userId('bob'));
  });

  it('has enrolled learners without a cached current grade (carol among them)', async () => {
    const users = await db('dashboard_cachedenrollment as e')
      .leftJoin('dashboard_cachedcurrentgrade as g', function () {
        this.on('g.user_id', 'e.user_id').andOn('g.course_run_id', 'e.course_run_id');
      })
      .join('courses_courserun as r', 'r.id', 'e.course_run_id')
      .whereNull('g.id')
      .where('r.start_date', '<', db.fn.now())
      .distinct()
      .pluck('e.user_id');
    expect(users).toContain(await userId('carol'));
    expect(users.length).toBeGreaterThanOrEqual(2);
  });

  it('has dave, relinked: his complete FinalGrade differs from the cached current grade', async () => {
    const [row] = await rows<{ grade: number; passed: boolean; status: string; data: { percent: number; passed: boolean } }>(
      `
      SELECT f.grade, f.passed, f.status, g.data FROM grades_finalgrade f
      JOIN dashboard_cachedcurrentgrade g ON g.user_id = f.user_id AND g.course_run_id = f.course_run_id
      WHERE f.user_id = ?`,
      [await userId('dave')],
    );
    expect(row.status).toBe('complete');
    expect(row.grade).not.toBe(row.data.percent);
    expect(row.passed).not.toBe(row.data.passed);
  });

  it('has erin, a conflict: a pending FinalGrade that differs from the cached grade in the freezable run', async () => {
    const [row] = await rows<{ grade: number; status: string; key: string; data: { percent: number } }>(
      `
      SELECT f.grade, f.status, r.edx_course_key AS key, g.data FROM grades_finalgrade f
      JOIN courses_courserun r ON r.id = f.course_run_id
      JOIN dashboard_cachedcurrentgrade g ON g.user_id = f.user_id AND g.course_run_id = f.course_run_id
      WHERE f.user_id = ?`,
      [await userId('erin')],
    );
    expect(row).toMatchObject({ status: 'pending', key: summary.highlights.freezableRun });
    expect(row.grade).not.toBe(row.data.percent);
  });

  it('has judy (spec E10): enrolled on the simulated edX after her last refresh, with nothing cached', async () => {
    const judy = await userId('judy');
    const key = summary.cast.find((c) => c.username === 'judy')!.courseKey;
    expect(key).toBe(summary.highlights.freezableRun);
    for (const table of ['dashboard_cachedenrollment', 'dashboard_cachedcurrentgrade', 'dashboard_cachedcertificate', 'grades_finalgrade'])
      expect(await db(table).where('user_id', judy), table).toHaveLength(0);
    const [audit] = await db('gradeops_audit_log').where('action', 'seed-demo').select('detail');
    const record = audit.detail.edxOnly.find((r: { uid: string }) => r.uid === 'jkowalski');
    expect(record).toMatchObject({
      provider: 'edxorg',
      courseKey: key,
      enrollment: { mode: 'verified', course_details: { course_id: key } },
      currentGrade: { percent: 0.81, passed: true },
    });
    // Her dashboard cache was refreshed before she enrolled, so nothing could have cached it.
    const times = await db('dashboard_usercacherefreshtime').where('user_id', judy).first();
    expect(times.enrollment.getTime()).toBeLessThan(new Date(record.enrollment.created).getTime());

    const world = await loadWorldFromDatabase(db);
    expect(world.edxorg.enrollments.get('jkowalski')?.get(key)).toMatchObject({ mode: 'verified', isActive: true });
    expect(world.edxorg.grades.get('jkowalski')?.get(key)).toMatchObject({ percent: 0.81, passed: true });
    expect(world.edxorg.certificates.get('jkowalski')?.get(key)).toMatchObject({ status: 'downloadable' });
  });

  it('stores proctored exam grades the way the importer does, each with an authorization', async () => {
    const grades = await db('grades_proctoredexamgrade').select('*');
    expect(grades.length).toBeGreaterThan(0);
    for (const g of grades) {
      expect(g.score).toBeGreaterThanOrEqual(0);
      expect(g.score).toBeLessThanOrEqual(100);
      expect(g.percentage_grade).toBeCloseTo(g.score / 100, 12);
      expect(g.grade).toBe(g.passed ? 'pass' : 'fail');
      expect(g.row_data).toMatchObject({ course_id: String(g.course_id), score: String(g.score), grade: g.grade, no_show: '0' });
      const auth = await db('exams_examauthorization').where({ user_id: g.user_id, exam_run_id: g.exam_run_id }).first();
      expect(auth?.exam_taken).toBe(true);
    }
  });

  it('has combined grades on the 0–100 scale, equal to the spec 2.11 formula', async () => {
    const combined = await db('grades_combinedfinalgrade').pluck('grade');
    expect(combined.length).toBeGreaterThanOrEqual(2);
    for (const grade of combined) expect(grade).toBeGreaterThan(1);
    const grace = await userId('grace');
    const course = await db('courses_course').where({ course_number: '14.310x' }).first('id');
    const cfg = await db('grades_combinedfinalgrade').where({ user_id: grace, course_id: course.id }).first();
    // spec 2.11: round(0.85 × 100 × 0.4 + 79.5 × 0.6, 1) = round(34 + 47.7, 1) = 81.7
    expect(cfg.grade).toBe(81.7);
  });

  it('has course certificates and program certificates for learners who completed a program', async () => {
    expect(await num('SELECT count(*) AS n FROM grades_micromasterscoursecertificate')).toBeGreaterThan(0);
    const certified = await db('grades_micromastersprogramcertificate as c')
      .join('auth_user as u', 'u.id', 'c.user_id')
      .pluck('u.username');
    expect(certified.sort()).toEqual(expect.arrayContaining(['frank', 'grace']));
    for (const hash of await db('grades_micromastersprogramcertificate').pluck('hash')) expect(hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('moves the id sequences past the seeded ids', async () => {
    const id = await inRolledBackTransaction(db, async (trx) => {
      const [row] = await trx('auth_user')
        .insert({
          password: '!',
          is_superuser: false,
          username: 'after-seed',
          first_name: '',
          last_name: '',
          email: 'a@example.com',
          is_staff: false,
          is_active: true,
          date_joined: new Date().toISOString(),
        })
        .returning('id');
      return row.id as number;
    });
    expect(id).toBe(61);
  });
});
