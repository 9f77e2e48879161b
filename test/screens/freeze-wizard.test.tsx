import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, daysFromNow, gradingStatusOf, type TestRun, type TestWorld } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 3: the freeze wizard, its job running in the console's process against a real database,
// Redis and the simulated edX.

let world: TestWorld;
let run: TestRun;

beforeAll(async () => {
  world = await createTestWorld({ timeoutMs: 10_000 });
  run = await world.addRun({ key: 'course-v1:MITx+14.100x+2T2026' });
  await world.addLearners(run, 6);
  const revoked = await world.addLearner(run, { username: 'bob', token: 'needs-refresh' });
  world.sims.edxorg.knobs.unauthorizedUsers.add(revoked.uid);
});

afterAll(async () => {
  await world.close();
});

describe('freeze wizard', () => {
  it('refuses a run whose freeze date is ahead, saying why and how to fix it', async () => {
    const early = await world.addRun({ freezeDate: daysFromNow(5) });
    const ui = renderConsole(world, { initialRoute: { name: 'freeze', courseKey: early.key }, columns: 120 });
    try {
      const frame = await ui.waitFor('not ready');
      expect(frame).toMatch(/✗ Freeze date set and past +.* is still ahead/);
      expect(frame).toContain('wait until the freeze date has passed, or correct freeze_grade_date');
      expect(frame).toMatch(/✓ Not complete/);
      expect(frame).toMatch(/✓ Redis reachable/);
      expect(frame).toMatch(/✓ edX reachable/);
      expect(frame).not.toContain('start the freeze');
    } finally {
      ui.unmount();
    }
  });

  it('checks, starts, shows live progress and the failures by reason, then the summary with retry and complete', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'freeze', courseKey: run.key }, columns: 120 });
    try {
      let frame = await ui.waitFor('ready to freeze');
      for (const check of ['Freeze date set and past', 'Not complete', 'No freeze running', 'Redis reachable', 'edX reachable'])
        expect(frame).toMatch(new RegExp(`✓ ${check}`));
      expect(frame).toContain('start the freeze: 7 learner(s)');
      world.sims.edxorg.knobs.latencyMs = 60; // slow enough to see it run
      await ui.press(KEY.enter);
      frame = await ui.waitFor(/Freezing course-v1:MITx\+14\.100x\+2T2026 — \d+\/7/);
      expect(frame).toContain('x stop freeze');
      frame = await ui.waitFor('stays pending: 1 learner(s) failed', 30_000);
      expect(frame).toMatch(/eligible 7 · frozen 6 \(this run 6\) · failed 1 · remaining 0/);
      expect(frame).toMatch(/invalid-credentials \(1\)[\s\S]*bob/);
      expect(frame).toContain('retry the 1 failed learner(s)');
      expect(frame).toContain('run again: complete the run without the 1 failed learner(s)');
      expect(await gradingStatusOf(world.db, run.id)).toBe('pending');

      // The second choice: run again, which completes the run without bob (spec 2.6 re-run).
      await ui.press('j', KEY.enter);
      frame = await ui.waitFor(`${run.key} is complete`, 30_000);
      expect(await gradingStatusOf(world.db, run.id)).toBe('complete');
    } finally {
      world.sims.edxorg.knobs.latencyMs = 0;
      ui.unmount();
    }
  });

  it('q while a freeze started here runs asks first; n stays, y stops it resumable and quits', async () => {
    const slow = await world.addRun();
    await world.addLearners(slow, 30);
    world.sims.edxorg.knobs.latencyMs = 150;
    const ui = renderConsole(world, { initialRoute: { name: 'freeze', courseKey: slow.key }, columns: 120 });
    try {
      await ui.waitFor('ready to freeze');
      await ui.press(KEY.enter);
      await ui.waitFor(/Freezing .* — \d+\/30/);
      await ui.press('q');
      let frame = await ui.waitFor('Stop and quit?');
      expect(frame.replace(/\s+/g, ' ')).toContain(`Still running, started in this console: freeze of ${slow.key}`);
      await ui.press('n');
      frame = await ui.waitFor(/Freezing .* — \d+\/30/);
      expect(ui.exited()).toBe(false);
      await ui.press('q');
      await ui.waitFor('Stop and quit?');
      await ui.press('y');
      for (let i = 0; i < 300 && !ui.exited(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(ui.exited()).toBe(true);
      expect(ui.lifecycle.running()).toHaveLength(0);
      // Stopped, not finished: the run stays pending with learners remaining, and the lock is free for the next run.
      expect(await gradingStatusOf(world.db, slow.id)).toBe('pending');
      const frozen = await world.db('grades_finalgrade').where({ course_run_id: slow.id }).count('* as n').first();
      expect(Number(frozen?.n)).toBeLessThan(30);
      expect(await world.redis.get(`gradeops:freeze:lock:${slow.key}`)).toBeNull();
    } finally {
      world.sims.edxorg.knobs.latencyMs = 0;
      ui.unmount();
    }
  });

  it('read-only: the wizard cannot be opened with f, and says why', async () => {
    const ui = renderConsole(world, { readOnly: true, initialRoute: { name: 'run', courseKey: run.key }, columns: 120 });
    try {
      await ui.waitFor('eligible 7');
      await ui.press('f');
      const frame = await ui.waitFor('read-only: freeze is turned off');
      expect(frame).not.toContain('Pre-flight');
    } finally {
      ui.unmount();
    }
  });
});
