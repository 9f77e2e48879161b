import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificatesInDatabase } from '../helpers/certificate-counts.js';
import { REPO, runCli, type CliResult } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';

// Issue 9 end to end, as an operator runs it on the demo world (embedded, or PostgreSQL + Redis when
// the suite has them): project a CSV, import it, release, populate, generate — the database then
// shows exactly the projected counts, and running any step again changes nothing.

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'exams');
const fixture = (name: string) => path.join(FIXTURES, name);
const DEDP = 1;

let world: CliWorld;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  world = await cliWorld();
  env = world.env;
  const first = await runCli(['runs', '--json'], env); // seeds the embedded demo on first start
  expect(first.code, first.stderr).toBe(0);
}, 180_000);

afterAll(() => world.close());

async function withDb<T>(work: (db: Knex) => Promise<T>): Promise<T> {
  const db = world.openDb();
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

async function json(args: string[]): Promise<{ code: number | null; body: Record<string, unknown>; res: CliResult }> {
  const res = await runCli([...args, '--json'], env);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`gradeops ${args.join(' ')} printed no JSON (exit ${res.code}): ${res.stdout} ${res.stderr}`);
  }
  return { code: res.code, body, res };
}

async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = await json(args);
  expect(r.code, `${args.join(' ')}: ${r.res.stderr}`).toBe(0);
  return r.body;
}

const maraGrades = () =>
  withDb(async (db) =>
    db('grades_proctoredexamgrade as g').join('auth_user as u', 'u.id', 'g.user_id').where('u.username', 'mara').select('g.*'),
  );

describe('gradeops exams, combined-grades, certificates on the demo world', () => {
  it('refuses a file with one bad row: exit 1, the line and the reason, nothing written', async () => {
    const plain = await runCli(['exams', 'import', fixture('demo-exam-grades-one-bad-row.csv')], env);
    expect(plain.code).toBe(1);
    const lines = plain.stderr.split('\n');
    expect(lines).toContain('line 3: grade must be pass or fail, not "Passed"');
    expect(lines.filter((l) => l.startsWith('error:'))).toEqual([
      'error: demo-exam-grades-one-bad-row.csv has 1 bad row; nothing was written — fix the rows listed (line: reason) and run the command again',
    ]);
    const asJson = await json(['exams', 'import', fixture('demo-exam-grades-one-bad-row.csv')]);
    expect(asJson.code).toBe(1);
    expect(asJson.body).toEqual({
      error: expect.objectContaining({
        code: 'invalid-exam-file',
        rows: [{ line: 3, reason: 'grade must be pass or fail, not "Passed"' }],
      }),
    });
    const projected = await runCli(['exams', 'project', fixture('demo-exam-grades-one-bad-row.csv')], env);
    expect(projected.code).toBe(1);
    expect(projected.stderr).toContain('line 3: grade must be pass or fail');
    expect(await maraGrades()).toEqual([]);
  }, 120_000);

  it('gives usage errors exit 2 and unknown ids a one-line refusal with exit 1', async () => {
    expect((await runCli(['exams', 'import'], env)).code).toBe(2);
    expect((await runCli(['exams', 'release', 'abc'], env)).code).toBe(2);
    expect((await runCli(['exams', 'release', '3', '--at', 'next tuesday'], env)).code).toBe(2);
    expect((await runCli(['certificates', 'generate', '--program', 'x'], env)).code).toBe(2);
    const missing = await runCli(['exams', 'project', '/nonexistent/grades.csv'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read /nonexistent/grades.csv (ENOENT)');
    const unknown = await json(['exams', 'release', '424242']);
    expect(unknown.code).toBe(1);
    expect(unknown.body).toEqual({ error: expect.objectContaining({ code: 'unknown-exam-run' }) });
    const noExam = await runCli(['combined-grades', 'populate', '--course', '7'], env);
    expect(noExam.code).toBe(1);
    expect(noExam.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
  }, 120_000);

  it('project, import, release, populate, generate: the database shows the projected "after"; every step is idempotent', async () => {
    const before = await withDb((db) => certificatesInDatabase(db, DEDP));
    const projection = await ok(['exams', 'project', fixture('demo-exam-grades.csv')]);
    expect(Object.keys(projection).sort()).toEqual(['after', 'before', 'changed']);
    expect(projection.before).toEqual(before.counts);
    expect(projection.changed).toEqual(expect.arrayContaining([{ username: 'mara', course: '14.73x', before: false, after: true }]));
    expect(await maraGrades()).toEqual([]); // the projection wrote nothing

    const imported = await ok(['exams', 'import', fixture('demo-exam-grades.csv')]);
    expect(imported).toMatchObject({ created: 1, modified: 1, unchanged: 0, noShows: { marked: 1, unchanged: 0 } });
    expect(await ok(['exams', 'import', fixture('demo-exam-grades.csv')])).toMatchObject({
      created: 0,
      modified: 0,
      unchanged: 2,
      noShows: { marked: 0, unchanged: 1 },
    });

    const toRelease = (imported.examRuns as Array<{ id: number; released: boolean }>).filter((e) => !e.released);
    expect(toRelease.length).toBeGreaterThan(0);
    for (const run of toRelease) expect(await ok(['exams', 'release', String(run.id)])).toMatchObject({ outcome: 'released' });
    expect(await ok(['exams', 'release', String(toRelease[0].id)])).toMatchObject({ outcome: 'already-released' });

    const populated = await ok(['combined-grades', 'populate']);
    expect((populated.created as number) + (populated.updated as number)).toBeGreaterThan(0);
    expect(await ok(['combined-grades', 'populate'])).toMatchObject({ created: 0, updated: 0 });

    const generated = await ok(['certificates', 'generate']);
    expect((generated.courseCertificates as { created: number }).created).toBeGreaterThan(0);
    expect(await ok(['certificates', 'generate'])).toMatchObject({
      courseCertificates: { created: 0 },
      programCertificates: { created: 0 },
    });

    const after = await withDb((db) => certificatesInDatabase(db, DEDP));
    expect(projection.after).toEqual(after.counts);
    const changed = projection.changed as Array<{ username: string; course: string; before: boolean; after: boolean }>;
    expect(changed.map((c) => `${c.username} ${c.course}`).sort()).toEqual([...after.pairs].filter((p) => !before.pairs.has(p)).sort());

    // Every write names the operator (GRADEOPS_OPERATOR of the test environment).
    const operators = await withDb(async (db) =>
      db('gradeops_audit_log')
        .whereIn('action', ['proctored-exam-grade', 'exam-run-release', 'combined-final-grade', 'course-certificate'])
        .distinct()
        .pluck('operator'),
    );
    expect(operators).toEqual(['cli-test']);
  }, 300_000);

  it('the adjustment file: projected and real outcomes agree; a grade on the 0.5 passing scale is refused', async () => {
    const projection = await ok(['exams', 'project', fixture('demo-adjustment.csv')]);
    const imported = await ok(['exams', 'import', fixture('demo-adjustment.csv')]);
    expect(imported).toMatchObject({ created: 0, modified: 1, unchanged: 1 });
    for (const run of (imported.examRuns as Array<{ id: number; released: boolean }>).filter((e) => !e.released))
      await ok(['exams', 'release', String(run.id)]);
    await ok(['combined-grades', 'populate']);
    await ok(['certificates', 'generate']);
    expect(projection.after).toEqual((await withDb((db) => certificatesInDatabase(db, DEDP))).counts);
    expect(await withDb(async (db) => (await db('grades_proctoredexamgrade').where({ id: 2 }).first()).score)).toBe(83);

    const refused = await runCli(['exams', 'import', fixture('demo-adjustment-fraction-scale.csv')], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/line 2: proctored exam grade 5 \(grace, 14\.73x\) has passing_score 0\.5, a 0–1 fraction/);
    expect(await withDb(async (db) => (await db('grades_proctoredexamgrade').where({ id: 5 }).first()).score)).toBe(72);
  }, 300_000);
});
