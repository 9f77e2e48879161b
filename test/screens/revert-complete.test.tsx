import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import { createTestWorld, failedListOf, finalGradesOf, gradingStatusOf, type TestRun, type TestWorld } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 6: the guided revert and force-complete, their typed confirmations against a real database.

let world: TestWorld;

beforeAll(async () => {
  world = await createTestWorld({ timeoutMs: 10_000 });
});

afterAll(async () => {
  await world.close();
});

async function frozenRun(learners = 4): Promise<TestRun> {
  const run = await world.addRun({ exam: true });
  await world.addLearners(run, learners);
  await runFreezeJob(world.ctx(), run.key);
  return run;
}

describe('guided revert', () => {
  it('shows what goes and what stays and why, then the snapshot; a wrong key changes nothing and says so; the right key reverts; restore brings it back', async () => {
    const run = await frozenRun();
    const before = await finalGradesOf(world.db, run.id);
    const ui = renderConsole(world, { initialRoute: { name: 'revert', courseKey: run.key }, columns: 130, rows: 40 });
    try {
      let frame = await ui.waitFor('snapshot first');
      expect(frame).toMatch(/✗ 4 FinalGrade\(s\) \(4 complete, 0 pending\)/);
      expect(frame).toContain('the grading status (complete): the run can be frozen again');
      const flat = frame.replace(/\s+/g, ' ');
      expect(flat).toMatch(/· \d+ combined final grades — MicroMasters recomputes them/);
      expect(flat).toMatch(/· \d+ exam authorizations — learners may have scheduled an exam with them/);
      await ui.press(KEY.enter);
      await ui.waitFor(`type ${run.key}:`);

      const wrong = run.key.replace('1T2024', '1T2025');
      await ui.type(wrong);
      await ui.press(KEY.enter);
      frame = await ui.waitFor('nothing was changed');
      expect(frame).toContain(`the confirmation "${wrong}" does not match the course key ${run.key}`);
      expect(await finalGradesOf(world.db, run.id)).toHaveLength(4);
      expect(await gradingStatusOf(world.db, run.id)).toBe('complete');
      expect(await world.db('gradeops_snapshot').where({ course_key: run.key })).toHaveLength(0);

      await ui.type(run.key);
      await ui.press(KEY.enter);
      frame = await ui.waitFor(`reverted ${run.key}: deleted 4 FinalGrade(s) and the grading status`);
      const [snapshot] = await world.db('gradeops_snapshot').where({ course_key: run.key });
      expect(frame).toContain(`snapshot ${snapshot.id}`);
      expect(frame).toContain(`restore snapshot ${snapshot.id} now`);
      expect(await finalGradesOf(world.db, run.id)).toHaveLength(0);
      expect(await gradingStatusOf(world.db, run.id)).toBeNull();

      await ui.press(KEY.enter); // restore, the first choice
      await ui.waitFor(`type ${run.key}:`);
      await ui.type('nope');
      await ui.press(KEY.enter);
      await ui.waitFor('nothing was restored');
      expect(await finalGradesOf(world.db, run.id)).toHaveLength(0);
      await ui.type(run.key);
      await ui.press(KEY.enter);
      frame = await ui.waitFor(`restored snapshot ${snapshot.id}`);
      expect(frame).toContain('4 FinalGrade(s), grading status complete');
      expect(await finalGradesOf(world.db, run.id)).toEqual(before);
    } finally {
      ui.unmount();
    }
  });

  it('Esc at the confirmation leaves without changing anything', async () => {
    const run = await frozenRun(1);
    const ui = renderConsole(world, { initialRoute: { name: 'run', courseKey: run.key }, columns: 130, rows: 40 });
    try {
      await ui.waitFor('eligible 1');
      await ui.press('r');
      await ui.waitFor('snapshot first');
      await ui.press(KEY.enter);
      await ui.waitFor(`type ${run.key}:`);
      await ui.type(run.key.slice(0, 10));
      await ui.press(KEY.esc);
      await ui.waitFor('Enter goes on to the typed confirmation');
      await ui.press(KEY.esc);
      await ui.waitFor('eligible 1');
      expect(await finalGradesOf(world.db, run.id)).toHaveLength(1);
    } finally {
      ui.unmount();
    }
  });
});

describe('force-complete', () => {
  it('explains the consequences first; a wrong key changes nothing and says so; the right key completes and clears the failed list', async () => {
    const run = await world.addRun();
    await world.addLearners(run, 2);
    const revoked = await world.addLearner(run, { token: 'needs-refresh' });
    world.sims.edxorg.knobs.unauthorizedUsers.add(revoked.uid);
    await runFreezeJob(world.ctx(), run.key);
    const ui = renderConsole(world, { initialRoute: { name: 'complete', courseKey: run.key }, columns: 130, rows: 40 });
    try {
      let frame = await ui.waitFor('what it does');
      const flat = frame.replace(/\s+/g, ' ');
      expect(flat).toContain('the 1 failed and 0 remaining learner(s) never get a FinalGrade from a freeze of this run');
      expect(flat).toContain('clears the failed-users list (1 learner(s))');
      await ui.press(KEY.enter);
      await ui.waitFor(`type ${run.key}:`);
      await ui.type('course-v1:MITx+C0+1T2024');
      await ui.press(KEY.enter);
      frame = await ui.waitFor('nothing was changed');
      expect(await gradingStatusOf(world.db, run.id)).toBe('pending');
      expect(await failedListOf(world.redis, run.key)).toEqual([String(revoked.id)]);

      await ui.type(run.key);
      await ui.press(KEY.enter);
      frame = await ui.waitFor('is now marked complete (cleared 1 learner(s) from the failed list)');
      const [audit] = await world.db('gradeops_audit_log').where({ action: 'complete-freeze', course_key: run.key });
      expect(frame).toContain(`audit row #${audit.id} · complete-freeze · by test-operator`);
      expect(await gradingStatusOf(world.db, run.id)).toBe('complete');
      expect(await failedListOf(world.redis, run.key)).toEqual([]);
    } finally {
      ui.unmount();
    }
  });

  it('refuses a complete run up front, with no confirmation to type', async () => {
    const run = await frozenRun(1);
    const ui = renderConsole(world, { initialRoute: { name: 'complete', courseKey: run.key }, columns: 130 });
    try {
      const frame = await ui.waitFor('cannot force-complete now: it is already complete');
      expect(frame).not.toContain('type course-v1');
    } finally {
      ui.unmount();
    }
  });

  it('read-only: revert and force-complete are refused from the run screen', async () => {
    const run = await frozenRun(1);
    const ui = renderConsole(world, { readOnly: true, initialRoute: { name: 'run', courseKey: run.key }, columns: 130 });
    try {
      await ui.waitFor('eligible 1');
      await ui.press('r');
      await ui.waitFor('read-only: revert is turned off');
      await ui.press('c');
      const frame = await ui.waitFor('read-only: force-complete is turned off');
      expect(frame).not.toContain('snapshot first');
      expect(await finalGradesOf(world.db, run.id)).toHaveLength(1);
    } finally {
      ui.unmount();
    }
  });
});
