import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, finalGradesOf, insertFinalGrade, type TestLearner, type TestRun, type TestWorld } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 4: find a learner → their course runs → diagnosis and its actions, against a real
// database and the simulated edX.

let world: TestWorld;
let exam: TestRun;
let plain: TestRun;
let dave: TestLearner;
let carol: TestLearner;

beforeAll(async () => {
  world = await createTestWorld({ timeoutMs: 10_000 });
  exam = await world.addRun({ exam: true, key: 'course-v1:MITx+14.310x+2T2025' });
  plain = await world.addRun({ key: 'course-v1:MITx+14.100x+2T2026' });
  dave = await world.addLearner(exam, { username: 'dave', grade: { percent: 0.82, passed: true } });
  await insertFinalGrade(world.db, dave.id, exam.id, { grade: 0.38, passed: false, status: 'complete', paid: true });
  await world.enrollLearner(dave, plain, { grade: { percent: 0.6, passed: true } });
  await world.addLearner(exam, { username: 'davina' });
  // Carol: enrolled, edX has a grade for her, but none is cached yet.
  carol = await world.addLearner(plain, { username: 'carol', grade: { percent: 0.7, passed: true }, cache: { grade: false } });
});

afterAll(async () => {
  await world.close();
});

describe('find a learner → course runs → diagnosis', () => {
  it('searches as you type by username, email or edX username, and opens the learner with their runs', async () => {
    const ui = renderConsole(world, { columns: 130 });
    try {
      await ui.waitFor('course runs ·');
      await ui.press('u');
      await ui.waitFor('Find a learner by');
      await ui.type('dav');
      let frame = await ui.waitFor('davina');
      expect(frame).toContain('dave');
      await ui.type('e-rem'); // "dave-rem…": the edX username
      frame = await ui.waitFor('edX username');
      expect(frame).not.toContain('davina');
      await ui.press(KEY.enter);
      frame = await ui.waitFor('2 course run(s)');
      const line = (key: string) => frame.split('\n').find((l) => l.includes(key)) ?? '';
      expect(line(exam.key)).toMatch(/0\.38 failed complete +≠ 0\.82 passed +—/);
      expect(line(plain.key)).toMatch(/none +0\.6 passed/);
      expect(frame).toContain('1 whose FinalGrade differs');
    } finally {
      ui.unmount();
    }
  });

  it('diagnoses the learner in a run: checks with marks, the next step with its key, and compute shows rule and inputs', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'learner', username: 'dave' }, columns: 130 });
    try {
      await ui.waitFor('2 course run(s)');
      const rows = ui.lastFrame().split('\n');
      const down = rows.findIndex((l) => l.includes(exam.key)) > rows.findIndex((l) => l.includes(plain.key));
      if (down) await ui.press('j');
      await ui.press(KEY.enter);
      let frame = await ui.waitFor('→ next:');
      expect(frame).toMatch(/✓ MicroMasters account +dave/);
      expect(frame).toMatch(/! FinalGrade +complete, grade 0\.38, passed false/);
      expect(frame).toMatch(/→ next: review and apply the difference.* — press s/);
      await ui.press('g');
      frame = await ui.waitFor('rule course-with-exam');
      expect(frame).toContain('computed: grade 0.82, passed true, paid on edX true');
      expect(frame).toContain('inputs: percent 0.82, edX passed true, enrollment mode verified');
      expect(frame).toContain('course has proctored exams: passed comes from the edX current grade');
      await ui.press('s');
      await ui.waitFor('type dave:');
    } finally {
      ui.unmount();
    }
  });

  it('refresh edX data fetches the grade edX has, and freeze this learner asks first, then writes the FinalGrade', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'diagnosis', username: 'carol', courseKey: plain.key }, columns: 130 });
    try {
      let frame = await ui.waitFor('→ next:');
      expect(frame).toMatch(/✗ Cached current grade +none/);
      await ui.press('e');
      frame = await ui.waitFor("refreshed carol's edX data");
      expect(frame).toMatch(new RegExp(`added +current grade +${plain.key.replace(/[+.]/g, '\\$&')} +percent 0\\.7, passed true`));
      frame = await ui.waitFor(/✓ Cached current grade +percent 0\.7/);

      await ui.press('f');
      frame = await ui.waitFor('Freeze carol?');
      await ui.press('n');
      await ui.waitFor('→ next:');
      expect(await finalGradesOf(world.db, plain.id)).toEqual([]);
      await ui.press('f');
      await ui.waitFor('Freeze carol?');
      await ui.press('y');
      frame = await ui.waitFor('froze carol: grade 0.7');
      expect(frame).toContain('side effects that followed');
      const [fg] = await finalGradesOf(world.db, plain.id);
      expect(fg).toMatchObject({ user_id: carol.id, grade: 0.7, status: 'complete' });
    } finally {
      ui.unmount();
    }
  });

  it('read-only: the learner actions that write are hidden and refused; compute still works', async () => {
    const ui = renderConsole(world, {
      readOnly: true,
      initialRoute: { name: 'diagnosis', username: 'dave', courseKey: exam.key },
      columns: 130,
    });
    try {
      let frame = await ui.waitFor('g compute grade');
      const footer = frame.trimEnd().split('\n').at(-1)!;
      expect(footer).not.toContain('refresh edX data');
      expect(footer).not.toContain('freeze this learner');
      expect(footer).not.toContain('resync');
      expect(frame).not.toContain('press s');
      await ui.press('e');
      await ui.waitFor('read-only: refresh edX data is turned off');
      await ui.press('s');
      frame = await ui.waitFor('read-only: resync is turned off');
      expect(frame).not.toContain('type dave');
      await ui.press('g');
      await ui.waitFor('rule course-with-exam');
    } finally {
      ui.unmount();
    }
  });
});
