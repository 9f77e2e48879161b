import 'dotenv/config';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import { migrateLatest, openPglite, openPostgres } from '../src/app/database.js';
import type { DomainContext } from '../src/domain/context.js';
import { rawRows } from '../src/domain/db.js';
import { importExamGrades } from '../src/domain/exams/exam-grade-import.js';
import { projectExamGradeFile, type ExamProjection } from '../src/domain/exams/exam-projection.js';
import { redactUrl } from '../src/domain/secrets.js';
import { startProbe } from './probe.js';
import { replaceSection } from './results-file.js';
import { benchServiceUrls } from './service-urls.js';

// `gradeops exams project` on a 20,000-row CSV (issue 9 target: under 2 s on PostgreSQL). The world:
// one live financial-aid program of five exam courses (three core, an electives set of two needing
// one), each with a frozen run before and after 2022-09-01, a released past exam run and a current
// one whose grades are embargoed; `learners` learners with a MITx Online account, enrolled in the
// program, each authorized for the current exam run of two courses after passing them, half of them
// already graded there, some holding older course certificates. The file: one row per authorization
// (5 % no-shows). Then a 20,000-row adjustment (curve) of those grades, after importing the file.
// Runs on its own (`npx tsx bench/exam-projection.ts [--learners N] [--repeats N] [--no-write]`;
// PostgreSQL when GRADEOPS_BENCH_DATABASE_URL (else GRADEOPS_TEST_DATABASE_URL) is set: a scratch database created and dropped; it writes only its
// own section of bench/RESULTS.md) and as the `projection` phase of `npm run bench`.

export interface ProjectionTiming {
  file: 'exam-grade import file' | 'adjustment file';
  rows: number;
  runsMs: number[];
  medianMs: number;
  statements: number;
  /** The slowest statement kinds of the last run (first 100 characters), with their total time. */
  slowest: Array<{ sql: string; count: number; ms: number }>;
  projection: Pick<ExamProjection, 'before' | 'after'> & { changed: number; created: number; modified: number; unchanged: number };
}

export interface ProjectionBenchResult {
  learners: number;
  setupMs: number;
  timings: ProjectionTiming[];
}

const DAY = 86_400_000;

/** Builds the bench world with set-based inserts; returns the program id and the first course id. */
async function buildWorld(db: Knex, learners: number, now: Date): Promise<{ programId: number; courseIds: number[]; tag: string }> {
  const tag = `pj${randomBytes(3).toString('hex')}`;
  const at = new Date(now.getTime() - 400 * DAY);
  const [{ id: programId }] = await db('courses_program')
    .insert({
      title: `Projection bench ${tag}`,
      live: true,
      description: null,
      financial_aid_availability: true,
      ga_tracking_id: '',
      num_required_courses: 4,
      price: 1000,
      created_on: at,
      updated_on: at,
    })
    .returning('id');
  const courseIds: number[] = [];
  for (let k = 0; k < 5; k++) {
    const [{ id }] = await db('courses_course')
      .insert({
        program_id: programId,
        position_in_program: k,
        edx_key: null,
        title: `Bench course ${k}`,
        course_number: `${tag}.${k}x`,
        should_display_progress: true,
      })
      .returning('id');
    courseIds.push(id as number);
  }
  const [{ id: setId }] = await db('courses_electivesset')
    .insert({ program_id: programId, required_number: 1, title: 'Bench electives' })
    .returning('id');
  for (const courseId of courseIds.slice(3)) await db('courses_electivecourse').insert({ course_id: courseId, electives_set_id: setId });
  for (const [k, courseId] of courseIds.entries()) {
    for (const [phase, start] of [
      ['legacy', new Date('2021-09-13T14:00:00Z')],
      ['modern', new Date(now.getTime() - 300 * DAY)],
    ] as const) {
      const key = `course-v1:MITx+${tag}${k}${phase}+1T2024`;
      const [{ id: runId }] = await db('courses_courserun')
        .insert({
          title: key,
          edx_course_key: key,
          course_id: courseId,
          courseware_backend: 'edxorg',
          is_discontinued: false,
          start_date: start,
          end_date: new Date(start.getTime() + 98 * DAY),
          freeze_grade_date: new Date(start.getTime() + 112 * DAY),
        })
        .returning('id');
      await db('grades_courserungradingstatus').insert({ course_run_id: runId, status: 'complete', created_on: at, updated_on: at });
    }
    for (const phase of ['past', 'current'] as const) {
      const first = new Date(now.getTime() + (phase === 'past' ? -200 : -50) * DAY);
      await db('exams_examrun').insert({
        created_on: at,
        updated_on: at,
        course_id: courseId,
        exam_series_code: `${tag}${k}`,
        edx_exam_course_key: `course-v1:MITx+${tag}${k}PEx+${phase}`,
        description: null,
        semester: null,
        date_first_schedulable: first,
        date_last_schedulable: new Date(first.getTime() + 20 * DAY),
        date_first_eligible: '2026-01-01',
        date_last_eligible: '2026-02-01',
        date_grades_available: new Date(now.getTime() + (phase === 'past' ? -150 : 12) * DAY),
        passing_score: 60,
        authorized: true,
      });
    }
  }

  // Learner i: user `<tag>-<i>`, MITx Online uid `<tag>.<i>`, courses c1 = i mod 5 and c2 = (i + 1) mod 5.
  const sql = (text: string, bindings: Knex.RawBinding[] = []) => db.raw(text, bindings);
  await sql(
    `INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
      SELECT '!', false, ? || '-' || i, '', '', ? || i || '@example.com', false, true, ? FROM generate_series(1, ?) i`,
    [tag, tag, at, learners],
  );
  await sql(
    `INSERT INTO social_auth_usersocialauth (user_id, provider, uid, extra_data, created, modified)
      SELECT u.id, 'mitxonline', ? || '.' || substr(u.username, length(?) + 2), '{}', ?, ? FROM auth_user u WHERE u.username LIKE ? || '-%'`,
    [tag, tag, at, at, tag],
  );
  await sql(
    `INSERT INTO dashboard_programenrollment (user_id, program_id, share_hash) SELECT id, ?, NULL FROM auth_user WHERE username LIKE ? || '-%'`,
    [programId, tag],
  );
  const learnerCourses = `SELECT u.id AS user_id, substr(u.username, length(?) + 2)::integer AS i, c.k FROM auth_user u
      CROSS JOIN LATERAL (VALUES (0), (1)) AS d(j)
      CROSS JOIN LATERAL (SELECT ((substr(u.username, length(?) + 2)::integer + d.j) % 5) AS k) c
      WHERE u.username LIKE ? || '-%'`;
  const courseOf = `(SELECT id FROM courses_course WHERE program_id = ? ORDER BY position_in_program OFFSET lc.k LIMIT 1)`;
  // A passed, complete FinalGrade on the modern run of both courses (grade 0.60–0.95).
  await sql(
    `INSERT INTO grades_finalgrade (user_id, course_run_id, grade, passed, status, course_run_paid_on_edx, created_on, updated_on)
      SELECT lc.user_id, r.id, 0.6 + ((lc.i * 7 + lc.k) % 36) / 100.0, true, 'complete', true, ?, ?
      FROM (${learnerCourses}) lc JOIN courses_courserun r ON r.course_id = ${courseOf} AND r.edx_course_key LIKE '%modern%'`,
    [at, at, tag, tag, tag, programId],
  );
  await sql(
    `INSERT INTO exams_examauthorization (created_on, updated_on, user_id, course_id, exam_run_id, operation, status, exam_taken, exam_no_show, exam_coupon_url, exam_coupon_id)
      SELECT ?, ?, lc.user_id, e.course_id, e.id, 'add', 'success', false, false, NULL, NULL
      FROM (${learnerCourses}) lc JOIN exams_examrun e ON e.course_id = ${courseOf} AND e.edx_exam_course_key LIKE '%current'`,
    [at, at, tag, tag, tag, programId],
  );
  // Half of them already have a grade in the current exam run (an earlier, uncurved import).
  await sql(
    `INSERT INTO grades_proctoredexamgrade (created_on, updated_on, user_id, course_id, exam_run_id, exam_date, passing_score, score, grade,
        client_authorization_id, row_data, passed, percentage_grade)
      SELECT ?, ?, a.user_id, a.course_id, a.exam_run_id, ?, 60, s.score, CASE WHEN s.score >= 60 THEN 'pass' ELSE 'fail' END, NULL, '{}',
        s.score >= 60, s.score / 100.0
      FROM exams_examauthorization a JOIN exams_examrun e ON e.id = a.exam_run_id
      CROSS JOIN LATERAL (SELECT (40 + (a.user_id * 13) % 60)::double precision AS score) s
      WHERE e.edx_exam_course_key LIKE ? || '%current' AND a.user_id % 2 = 0`,
    [at, at, at, `course-v1:MITx+${tag}`],
  );
  // Some learners hold course certificates of the legacy era in the other courses.
  await sql(
    `INSERT INTO grades_micromasterscoursecertificate (created_on, updated_on, hash, user_id, course_id)
      SELECT ?, ?, md5(? || u.id || '-' || c.id), u.id, c.id FROM auth_user u JOIN courses_course c ON c.program_id = ?
      WHERE u.username LIKE ? || '-%' AND (u.id + c.position_in_program) % 4 = 0`,
    [at, at, tag, programId, tag],
  );
  await db.raw('ANALYZE');
  return { programId, courseIds, tag };
}

async function examGradeFile(db: Knex, tag: string): Promise<string> {
  const rows = rawRows<{ uid: string; course_id: number; user_id: number }>(
    await db.raw(
      `SELECT s.uid, a.course_id, a.user_id FROM exams_examauthorization a JOIN exams_examrun e ON e.id = a.exam_run_id
        JOIN social_auth_usersocialauth s ON s.user_id = a.user_id AND s.provider = 'mitxonline'
        WHERE e.edx_exam_course_key LIKE ? || '%current' ORDER BY a.id`,
      [`course-v1:MITx+${tag}`],
    ),
  );
  const lines = rows.map((r, n) => {
    if (n % 20 === 7) return `${r.uid},${r.course_id},1,,`;
    const score = 35 + ((r.user_id * 17 + r.course_id) % 66);
    return `${r.uid},${r.course_id},0,${score},${score >= 60 ? 'pass' : 'fail'}`;
  });
  return `username,course_id,no_show,score,grade\n${lines.join('\n')}\n`;
}

async function adjustmentFile(db: Knex, tag: string): Promise<string> {
  const rows = rawRows<{ id: number; score: number }>(
    await db.raw(
      `SELECT g.id, g.score FROM grades_proctoredexamgrade g JOIN exams_examrun e ON e.id = g.exam_run_id
        WHERE e.edx_exam_course_key LIKE ? || '%current' ORDER BY g.id`,
      [`course-v1:MITx+${tag}`],
    ),
  );
  return `proctoredexam_id,score\n${rows.map((g) => `${g.id},${Math.min(100, g.score + 5)}`).join('\n')}\n`;
}

async function timeProjection(
  ctx: DomainContext,
  text: string,
  file: ProjectionTiming['file'],
  repeats: number,
): Promise<ProjectionTiming> {
  const runsMs: number[] = [];
  let last: ExamProjection | null = null;
  let probe = startProbe(ctx.db as Knex, { recordSql: true });
  let result = probe.stop();
  for (let k = 0; k < repeats; k++) {
    probe = startProbe(ctx.db as Knex, { recordSql: true });
    const t0 = performance.now();
    last = await projectExamGradeFile(ctx, text, file);
    runsMs.push(performance.now() - t0);
    result = probe.stop();
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  const p = last!;
  return {
    file,
    rows: text.split('\n').length - 2,
    runsMs,
    medianMs: sorted[Math.floor((sorted.length - 1) / 2)],
    statements: result.queries,
    slowest: [...result.bySql]
      .map(([sql, v]) => ({ sql: sql.slice(0, 100), count: v.count, ms: v.ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 6),
    projection: {
      before: p.before,
      after: p.after,
      changed: p.changed.length,
      created: p.steps.import.created,
      modified: p.steps.import.modified,
      unchanged: p.steps.import.unchanged,
    },
  };
}

/** The projection phase: builds its world in `db`, times both files, leaves the rows in place (a scratch database). */
export async function projectionBench(
  db: Knex,
  options: { learners: number; repeats: number; log?: (m: string) => void },
): Promise<ProjectionBenchResult> {
  const log = options.log ?? (() => {});
  const now = new Date();
  const t0 = performance.now();
  const { tag } = await buildWorld(db, options.learners, now);
  const setupMs = performance.now() - t0;
  const ctx: DomainContext = { db, redis: null as never, edx: null as never, operator: 'bench' };
  log(`projection: ${options.learners} learners written (${(setupMs / 1000).toFixed(1)} s)`);
  const timings: ProjectionTiming[] = [];
  const importFile = await examGradeFile(db, tag);
  timings.push(await timeProjection(ctx, importFile, 'exam-grade import file', options.repeats));
  log(`projection: exam-grade import file, ${timings[0].rows} rows: ${timings[0].runsMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
  await importExamGrades(ctx, importFile, 'bench.csv');
  const curve = await adjustmentFile(db, tag);
  timings.push(await timeProjection(ctx, curve, 'adjustment file', options.repeats));
  log(`projection: adjustment file, ${timings[1].rows} rows: ${timings[1].runsMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
  return { learners: options.learners, setupMs, timings };
}

export function projectionMarkdown(r: ProjectionBenchResult, mode: string): string {
  const rows = r.timings
    .map(
      (t) =>
        `| ${t.file} | ${t.rows} | ${t.runsMs.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')} | ${(t.medianMs / 1000).toFixed(2)} s | ${t.statements} | ${t.projection.created} / ${t.projection.modified} / ${t.projection.unchanged} | ${t.projection.changed} |`,
    )
    .join('\n');
  const slow = r.timings
    .map(
      (t) =>
        `Slowest statements of the last ${t.file} run:\n\n| statement (first 100 characters) | count | total |\n|---|---:|---:|\n` +
        t.slowest.map((s) => `| \`${s.sql.replace(/\|/g, '\\|')}\` | ${s.count} | ${s.ms.toFixed(0)} ms |`).join('\n'),
    )
    .join('\n\n');
  const target = r.timings
    .map((t) => `${t.file}: ${t.medianMs < 2000 ? 'met' : 'missed'} (median ${(t.medianMs / 1000).toFixed(2)} s)`)
    .join('; ');
  return (
    `${r.learners} learners of one program, each authorized for the current exam run of two of its five courses (so ${r.learners * 2} rows), ` +
    `half already graded there; the projection parses and checks the file, imports it, releases the exam runs and ` +
    `generates certificates in a transaction that rolls back. Mode: ${mode}. World written in ${(r.setupMs / 1000).toFixed(1)} s.\n\n` +
    `| file | rows | runs | median | statements | grades created / modified / unchanged | changed outcomes |\n|---|---:|---|---:|---:|---|---:|\n${rows}\n\n` +
    `**Target: under 2 s on PostgreSQL. ${target}.**\n\n${slow}\n`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { learners: { type: 'string' }, repeats: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const learners = Number(values.learners ?? 10_000);
  const repeats = Number(values.repeats ?? 3);
  if (!Number.isSafeInteger(learners) || learners < 1 || !Number.isSafeInteger(repeats) || repeats < 1) {
    process.stderr.write('usage: npx tsx bench/exam-projection.ts [--learners N] [--repeats N] [--no-write]\n');
    process.exit(2);
  }
  const loadAtStart = os.loadavg();
  const { databaseUrl: url, databaseVariable } = benchServiceUrls();
  let db: Knex;
  let cleanup: () => Promise<void>;
  let mode: string;
  if (url) {
    const scratch = `gradeops_bench_exams_${process.pid}_${Date.now().toString(36)}`;
    const admin = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${scratch}`);
    const scratchUrl = new URL(url);
    scratchUrl.pathname = `/${scratch}`;
    db = openPostgres(scratchUrl.toString(), 4);
    mode = `PostgreSQL (scratch database ${scratch} on ${redactUrl(url)}, dropped afterwards)`;
    cleanup = async () => {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
      await admin.destroy();
    };
  } else {
    db = openPglite(null);
    mode = `PGlite in memory (${databaseVariable} not set)`;
    cleanup = () => db.destroy();
  }
  try {
    await migrateLatest(db);
    const result = await projectionBench(db, { learners, repeats, log: (m) => process.stderr.write(`${m}\n`) });
    const cpus = os.cpus();
    const run =
      `Run on its own: \`${url ? `${databaseVariable}=${redactUrl(url)} ` : ''}npx tsx bench/exam-projection.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}\`, ` +
      `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ` +
      `load average ${loadAtStart.map((x) => x.toFixed(2)).join(', ')} at the start and ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')} at the end (other work on the machine skews the figures).`;
    const markdown = `${run}\n\n${projectionMarkdown(result, mode)}`;
    process.stdout.write(`${markdown}\n`);
    if (!values['no-write']) {
      const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
      writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'projection', markdown));
      process.stderr.write(`wrote the projection section of ${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
