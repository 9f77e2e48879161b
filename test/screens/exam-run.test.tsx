import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRedis } from '../helpers/redis.js';
import { edxSettingsFor } from '../helpers/world.js';
import { KEY, renderConsole, type ConsoleWorld } from '../helpers/console.js';
import { seededDb } from '../seed/seeded-db.js';

// Issue 9 §7: the exam runs list and one exam run's runbook checklist, on the demo world (the cast's
// mara sat the current 14.73x exam; test/fixtures/exams holds the course team's files).

const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures', 'exams');
const fixture = (name: string) => path.join(FIXTURES, name);

let world: ConsoleWorld;
let db: Knex;
let maraExamRun: number;

beforeAll(async () => {
  ({ db } = await seededDb({ learners: 60 }));
  world = { db, redis: await freshRedis(), settings: edxSettingsFor({}) };
  const row = await db('exams_examauthorization as a')
    .join('auth_user as u', 'u.id', 'a.user_id')
    .join('courses_course as c', 'c.id', 'a.course_id')
    .where({ 'u.username': 'mara', 'c.course_number': '14.73x' })
    .first('a.exam_run_id');
  maraExamRun = row.exam_run_id;
});

afterAll(async () => {
  await db.destroy();
});

const gradesOf = async (examRunId: number) => db('grades_proctoredexamgrade').where({ exam_run_id: examRunId });
const flat = (frame: string) => frame.replace(/\s+/g, ' ');

describe('exam runs list', () => {
  it('p on the course runs opens the exam runs: course, exam run, dates, authorized learners, grades, released; Enter opens the checklist', async () => {
    const ui = renderConsole(world, { columns: 130, rows: 40 });
    try {
      let frame = await ui.waitFor('p exam runs');
      await ui.press('p');
      frame = await ui.waitFor(/\d+ exam runs/);
      const total = Number((await db('exams_examrun').count({ n: '*' }))[0].n);
      expect(frame).toContain(`${total} exam runs`);
      expect(frame).toMatch(/course +exam run +schedulable +grades avail\. +authorized +grades +released/);
      const [first] = await db('exams_examrun').orderBy([
        { column: 'date_last_schedulable', order: 'desc' },
        { column: 'id', order: 'desc' },
      ]);
      const line = frame.split('\n').find((l) => l.startsWith('›')) ?? '';
      expect(line).toContain(`${first.id} `);
      expect(line).toMatch(/ (yes|no)\s*$/);
      // The footer follows once the screen has its rows.
      await ui.waitFor('Enter open the checklist');
      await ui.press(KEY.enter);
      frame = await ui.waitFor('adjusted grades received');
      expect(frame).toContain(`exam run ${first.id} ·`);
      await ui.press(KEY.esc);
      await ui.waitFor(/\d+ exam runs/);
    } finally {
      ui.unmount();
    }
  });

  it('the help overlay names the exam runs key', async () => {
    const ui = renderConsole(world, { columns: 130, rows: 40 });
    try {
      await ui.waitFor('p exam runs');
      await ui.press('?');
      const frame = flat(await ui.waitFor('quit'));
      expect(frame).toContain('p the proctored exam runs');
    } finally {
      ui.unmount();
    }
  });
});

describe('exam run checklist', () => {
  it("mara's exam run: a bad CSV lists its bad line and writes nothing; the good one is checked, projected, confirmed, then loaded", async () => {
    const before = await gradesOf(maraExamRun);
    const ui = renderConsole(world, {
      initialRoute: { name: 'exam-run', examRunId: maraExamRun },
      columns: 130,
      rows: 45,
      operator: 'ops-olga',
    });
    try {
      let frame = await ui.waitFor('Enter enter the CSV path');
      expect(frame).toMatch(/14\.73x/);
      for (const label of [
        'projection reviewed',
        'counts confirmed',
        'loaded',
        'released',
        'combined grades updated',
        'certificates generated',
      ])
        expect(frame).toContain(label);

      // A file with one bad row: the line and the reason, nothing written. The path is sent right
      // after Enter, before the field is drawn: its keys are typed, not taken as actions (the u of
      // exam-tui would open the learner search).
      await ui.burst(KEY.enter, fixture('demo-exam-grades-one-bad-row.csv'));
      expect(ui.lastFrame()).not.toContain('Find a learner');
      await ui.press(KEY.enter);
      frame = await ui.waitFor('line 3:');
      expect(flat(frame)).toContain('demo-exam-grades-one-bad-row.csv has 1 bad row; nothing was written');
      expect(frame).toContain('line 3: grade must be pass or fail, not "Passed"');
      expect(await gradesOf(maraExamRun)).toEqual(before);

      // The good file: every row checked, what the import would do.
      await ui.press(KEY.enter);
      await ui.waitFor('CSV path:');
      await ui.press(...Array.from({ length: 40 }, () => '\u007f').join(''));
      await ui.burst('\u0015'); // Ctrl-U clears the field
      await ui.burst(fixture('demo-exam-grades.csv'));
      await ui.press(KEY.enter);
      frame = await ui.waitFor('3 rows checked');
      expect(frame).toContain('demo-exam-grades.csv: 3 rows checked; would create 1, modify 1, keep 0, 1 no-show');

      // Loading before the counts are confirmed is refused.
      await ui.press('j', 'j', 'j');
      await ui.press(KEY.enter);
      await ui.waitFor('loaded: confirm the counts first');
      expect(await gradesOf(maraExamRun)).toHaveLength(before.length);

      // The projection table.
      await ui.press('k', 'k');
      await ui.press(KEY.enter);
      frame = await ui.waitFor('learners holding');
      expect(frame).toMatch(/1 course certificate +\d+ +\d+/);
      expect(frame).toMatch(/a program certificate +\d+ +\d+/);
      expect(frame).toMatch(/course outcomes? change|no learner gains or loses/);

      // Counts confirmed by typing the number of changed outcomes; a wrong number is refused.
      await ui.press('j');
      await ui.press(KEY.enter);
      frame = await ui.waitFor(/type \d+:/);
      const expected = /type (\d+):/.exec(frame)![1];
      await ui.type('999');
      await ui.press(KEY.enter);
      await ui.waitFor('the counts are not confirmed');
      await ui.type(expected);
      await ui.press(KEY.enter);
      frame = await ui.waitFor('confirmed in this session');

      // Load: asked first, then the import runs and the checklist follows.
      await ui.press(KEY.enter);
      await ui.waitFor('load the grades?');
      await ui.press('y');
      frame = await ui.waitFor('imported demo-exam-grades.csv');
      expect(frame).toContain('imported demo-exam-grades.csv: 1 created, 1 modified, 0 unchanged; no-shows: 1 marked');
      frame = await ui.waitFor('file loaded ·');
      expect(frame).toMatch(/✓ +. loaded/);
      const after = await gradesOf(maraExamRun);
      expect(after.length).toBe(before.length + 1);
      const audit = await db('gradeops_audit_log').where({ action: 'proctored-exam-grade', operator: 'ops-olga' });
      expect(audit.length).toBe(2);
    } finally {
      ui.unmount();
    }
  });

  it('read-only: the writes are refused and change nothing', async () => {
    const before = await gradesOf(maraExamRun);
    const ui = renderConsole(world, { readOnly: true, initialRoute: { name: 'exam-run', examRunId: maraExamRun }, columns: 130, rows: 40 });
    try {
      let frame = await ui.waitFor('adjusted grades received');
      expect(frame).toContain('read-only: the file can be checked and projected; load, release, populate and generate are turned off');
      await ui.press('j', 'j', 'j', 'j'); // released
      await ui.press(KEY.enter);
      frame = await ui.waitFor('read-only: released is turned off');
      expect(frame).not.toContain('release the exam run?');
      expect(frame).not.toContain('Enter release now');
      const run = await db('exams_examrun').where({ id: maraExamRun }).first();
      expect(new Date(run.date_grades_available).getTime()).toBeGreaterThan(Date.now());
      expect(await gradesOf(maraExamRun)).toEqual(before);
    } finally {
      ui.unmount();
    }
  });
});

describe('exam run checklist, after the load', () => {
  it('release, combined grades and certificates: each asked first, then run as the operator, and the checklist follows the database', async () => {
    const ui = renderConsole(world, {
      initialRoute: { name: 'exam-run', examRunId: maraExamRun },
      columns: 130,
      rows: 40,
      operator: 'ops-olga',
    });
    try {
      // A new session: the file is not checked here, so the first open step is the file's;
      // the loaded grades are a fact of the database.
      let frame = await ui.waitFor('adjusted grades received');
      expect(frame).toMatch(/✓ +loaded +3 grades \(3 passed\)/);
      await ui.press('j', 'j', 'j', 'j');
      await ui.waitFor('Enter release now');
      await ui.press(KEY.enter);
      await ui.waitFor('release the exam run?');
      await ui.press('n'); // n leaves it
      await ui.waitFor('Enter release now');
      let run = await db('exams_examrun').where({ id: maraExamRun }).first();
      expect(new Date(run.date_grades_available).getTime()).toBeGreaterThan(Date.now());

      await ui.press(KEY.enter);
      await ui.waitFor('release the exam run?');
      await ui.press('y');
      frame = await ui.waitFor(`exam run ${maraExamRun} (14.73x) released`);
      frame = await ui.waitFor(/✓ +(?:› )?released +grades available since/);
      run = await db('exams_examrun').where({ id: maraExamRun }).first();
      expect(new Date(run.date_grades_available).getTime()).toBeLessThanOrEqual(Date.now());
      expect(await db('gradeops_audit_log').where({ action: 'exam-run-release', operator: 'ops-olga' })).toHaveLength(1);

      // Combined grades: what populate would do, then populate.
      frame = await ui.waitFor(/combined grades updated +would create [1-9]/);
      await ui.waitFor('Enter populate');
      await ui.press(KEY.enter);
      await ui.waitFor('populate the combined grades?');
      await ui.press('y');
      frame = await ui.waitFor(/combined final grades of 14\.73x: [1-9]\d* created/);
      frame = await ui.waitFor(/✓ +(?:› )?combined grades updated +up to date: (\d+) of \1 passers have one/);

      // Certificates: generate, then nothing is left to create.
      await ui.waitFor('Enter generate');
      await ui.press(KEY.enter);
      await ui.waitFor('generate the certificates?');
      await ui.press('y');
      frame = await ui.waitFor(/certificates of .*: [1-9]\d* course certificates and \d+ program certificates created/);
      frame = await ui.waitFor(/✓ +(?:› )?certificates generated +up to date/);
      expect(await db('gradeops_audit_log').where({ action: 'course-certificate', operator: 'ops-olga' })).not.toHaveLength(0);
    } finally {
      ui.unmount();
    }
  });

  it('fits 80×24 with the projection and the count confirmation open', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'exam-run', examRunId: maraExamRun }, columns: 80, rows: 24 });
    try {
      await ui.waitFor('adjusted grades received');
      await ui.press(KEY.enter);
      await ui.waitFor('CSV path:');
      await ui.burst(fixture('demo-adjustment.csv'));
      await ui.press(KEY.enter);
      await ui.waitFor('rows checked');
      await ui.press('j', KEY.enter);
      await ui.waitFor('learners holding');
      await ui.press('j', KEY.enter);
      const frame = await ui.waitFor(/type \d+:/);
      expect(frame).toContain('a program certificate');
      const lines = frame.split('\n');
      expect(lines.length).toBeLessThanOrEqual(24);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    } finally {
      ui.unmount();
    }
  });
});
