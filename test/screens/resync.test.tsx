import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, finalGradesOf, insertFinalGrade, type TestLearner, type TestRun, type TestWorld } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 5: resync, against a real database and the simulated edX. The learner was relinked: the
// FinalGrade says 0.38 failed, edX now says 0.82 passed.

let world: TestWorld;
let run: TestRun;
let dave: TestLearner;

beforeAll(async () => {
  world = await createTestWorld({ timeoutMs: 10_000 });
  run = await world.addRun({ exam: true });
  dave = await world.addLearner(run, { username: 'dave', grade: { percent: 0.82, passed: true } });
  await insertFinalGrade(world.db, dave.id, run.id, { grade: 0.38, passed: false, status: 'complete', paid: true });
});

afterAll(async () => {
  await world.close();
});

const route = () => ({ name: 'resync' as const, username: 'dave', courseKey: run.key });

describe('resync screen', () => {
  it('shows the FinalGrade and what edX says now side by side, differences marked', async () => {
    const ui = renderConsole(world, { initialRoute: route(), columns: 120 });
    try {
      const frame = await ui.waitFor('type dave:');
      expect(frame).toMatch(/grade +0\.38 +0\.82 +≠ differs/);
      expect(frame).toMatch(/passed +false +true +≠ differs/);
      expect(frame).toMatch(/paid on edX +true +true *\n/);
      expect(frame).toMatch(/status +complete +complete *\n/);
    } finally {
      ui.unmount();
    }
  });

  it('a wrong username is refused and writes nothing; the right one applies, then shows the audit row and the side effects', async () => {
    const ui = renderConsole(world, { initialRoute: route(), columns: 120 });
    try {
      await ui.waitFor('type dave:');
      await ui.type('davd');
      await ui.press(KEY.enter);
      await ui.waitFor('"davd" is not the username dave: nothing was written');
      expect((await finalGradesOf(world.db, run.id))[0]).toMatchObject({ grade: 0.38, passed: false });
      const audits = await world.db('gradeops_audit_log').where({ action: 'resync' });
      expect(audits).toHaveLength(0);

      await ui.type('dave');
      await ui.press(KEY.enter);
      const frame = await ui.waitFor('side effects that followed');
      expect(frame).toContain(`applied: dave's FinalGrade in ${run.key} now matches edX`);
      const [fg] = await finalGradesOf(world.db, run.id);
      expect(fg).toMatchObject({ grade: 0.82, passed: true, status: 'complete' });
      const [audit] = await world.db('gradeops_audit_log').where({ action: 'resync' });
      expect(frame).toMatch(new RegExp(`#${audit.id} · resync · by test-operator`));
      expect(frame).toMatch(/before \{"grade":0\.38,"passed":false/);
      expect(frame).toMatch(/after +\{"grade":0\.82,"passed":true/);
      expect(frame).toContain('combined final grade');
    } finally {
      ui.unmount();
    }
  });

  it('a username typed and confirmed in one burst (a paste, a script) applies, with what was typed', async () => {
    // The FinalGrade differs again (the test before applied the resync).
    await world.db('grades_finalgrade').where({ user_id: dave.id, course_run_id: run.id }).update({ grade: 0.38, passed: false });
    const ui = renderConsole(world, { initialRoute: route(), columns: 120 });
    try {
      await ui.waitFor('type dave:');
      await ui.press(`davd${KEY.enter}`);
      await ui.waitFor('"davd" is not the username dave: nothing was written');
      await ui.press(`dave${KEY.enter}`);
      await ui.waitFor('side effects that followed');
      expect((await finalGradesOf(world.db, run.id))[0]).toMatchObject({ grade: 0.82, passed: true });
    } finally {
      ui.unmount();
    }
  });

  it('once the FinalGrade matches, says there is nothing to change and asks for nothing', async () => {
    const ui = renderConsole(world, { initialRoute: route(), columns: 120 });
    try {
      const frame = await ui.waitFor('already matches edX: nothing to change');
      expect(frame).not.toContain('type dave');
    } finally {
      ui.unmount();
    }
  });

  it('read-only: resync is turned off', async () => {
    const ui = renderConsole(world, { initialRoute: route(), readOnly: true, columns: 120 });
    try {
      await ui.waitFor('read-only: resync is turned off');
    } finally {
      ui.unmount();
    }
  });
});
