import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, daysFromNow, type TestRun, type TestWorld } from '../helpers/world.js';
import { insertFinalGrade } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 1: the course runs, against a real database.

let world: TestWorld;
let freezable: TestRun;
let done: TestRun;
let future: TestRun;

beforeAll(async () => {
  world = await createTestWorld();
  freezable = await world.addRun({ key: 'course-v1:MITx+14.100x+2T2026' });
  done = await world.addRun({ key: 'course-v1:MITx+14.310x+1T2025' });
  future = await world.addRun({ key: 'course-v1:MITx+14.73x+3T2027', freezeDate: daysFromNow(30) });
  await world.addRun({ key: 'course-v1:MITx+14.750x+1T2027', freezeDate: null });
  const learners = await world.addLearners(freezable, 3);
  await insertFinalGrade(world.db, learners[0].id, freezable.id, { grade: 0.8, passed: true, status: 'complete' });
  await world.redis.lpush(`failed_users_${freezable.key}`, String(learners[1].id));
  const [learner] = await world.addLearners(done, 1);
  await insertFinalGrade(world.db, learner.id, done.id, { grade: 0.9, passed: true, status: 'complete' });
  await world
    .db('grades_courserungradingstatus')
    .insert({ course_run_id: done.id, status: 'complete', created_on: new Date(), updated_on: new Date() });
  await world.addLearners(future, 2);
});

afterAll(async () => {
  await world.close();
});

describe('home: the course runs', () => {
  it('lists every run with freeze date, can-freeze, status, frozen/eligible and failed; freezable runs stand out', async () => {
    const ui = renderConsole(world, { columns: 130 });
    try {
      await ui.waitFor('4 course runs');
      const frame = await ui.waitFor('f freeze wizard');
      expect(frame).toContain('gradeops │ embedded demo │ operator test-operator');
      expect(frame).toContain('1 freezable and not complete');
      const line = (key: string) => frame.split('\n').find((l) => l.includes(key)) ?? '';
      // The freezable run: marked, 1 of 3 frozen, 1 on the failed list.
      expect(line(freezable.key)).toMatch(/(›|!) .*course-v1:MITx\+14\.100x\+2T2026 .* yes +not started +1\/3 +1/);
      expect(line(done.key)).toMatch(/yes +complete +1\/1 +0/);
      expect(line(future.key)).toMatch(/not yet +not started +0\/2/);
      expect(line('14.750x')).toMatch(/missing +no date/);
      expect(frame).toContain('/ filter');
      expect(frame).toContain('Enter open run');
    } finally {
      ui.unmount();
    }
  });

  it('fits 80 columns: rows are cut with … and never wrap', async () => {
    const ui = renderConsole(world, { columns: 80, rows: 24 });
    try {
      const frame = await ui.waitFor('4 course runs');
      for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
      expect(frame).toMatch(/…[^ ]*14\.100x\+2T2026/);
      expect(frame.split('\n').length).toBeLessThanOrEqual(24);
    } finally {
      ui.unmount();
    }
  });

  it('filters as you type with /, Enter opens the match, and Esc clears the filter', async () => {
    const ui = renderConsole(world);
    try {
      await ui.waitFor('4 course runs');
      await ui.press('/');
      await ui.type('14.73');
      let frame = await ui.waitFor('1 of 4');
      expect(frame).toContain(future.key);
      expect(frame).not.toContain(freezable.key);
      await ui.press(KEY.enter);
      frame = await ui.waitFor(`${future.key} — `);
      expect(frame).toContain('eligible');
      await ui.press(KEY.esc);
      frame = await ui.waitFor('/ changes the filter');
      expect(frame).not.toContain(done.key);
      await ui.press(KEY.esc);
      frame = await ui.waitFor(done.key);
      expect(frame).toContain(freezable.key);
    } finally {
      ui.unmount();
    }
  });

  it('a filter typed with its Enter in one burst opens the run it names, not the one selected before', async () => {
    const ui = renderConsole(world);
    try {
      await ui.waitFor('4 course runs');
      await ui.press('/');
      await ui.press(`14.73${KEY.enter}${KEY.enter}`);
      const frame = await ui.waitFor(`${future.key} — `);
      expect(frame).toContain('eligible');
    } finally {
      ui.unmount();
    }
  });

  it('keys read right after / (before the field is drawn) are typed into it, q and u included', async () => {
    const ui = renderConsole(world);
    try {
      await ui.waitFor('4 course runs');
      await ui.burst('/', 'q', 'u');
      let frame = await ui.waitFor('0 of 4');
      expect(frame).toContain('/ qu');
      expect(ui.exited()).toBe(false);
      await ui.burst('\u007f', '\u007f', '1', '4', '.', '7', '3', KEY.enter);
      frame = await ui.waitFor(`${future.key} — `);
      expect(frame).toContain('eligible');
    } finally {
      ui.unmount();
    }
  });

  it('shows a live marker on a run whose freeze lock is held by another process', async () => {
    await world.redis.set(
      `gradeops:freeze:lock:${future.key}`,
      JSON.stringify({ token: 't', operator: 'someone', host: 'another-host', pid: 1, startedOn: new Date().toISOString() }),
    );
    const ui = renderConsole(world, { columns: 130 });
    try {
      const frame = await ui.waitFor('1 freeze running');
      expect(frame.split('\n').find((l) => l.includes(future.key))).toContain('● running');
    } finally {
      ui.unmount();
      await world.redis.del(`gradeops:freeze:lock:${future.key}`);
    }
  });

  it('read-only: the header says so, the footer offers no write, and f is refused with a reason', async () => {
    const ui = renderConsole(world, { readOnly: true, columns: 130 });
    try {
      await ui.waitFor('4 course runs');
      const frame = await ui.waitFor('Enter open run');
      expect(frame).toContain('│ read-only');
      expect(frame).not.toContain('f freeze');
      expect(frame).not.toContain('r revert');
      expect(frame).not.toContain('c force-complete');
      await ui.press('f');
      const after = await ui.waitFor('read-only: freeze is turned off');
      expect(after).toContain('4 course runs'); // still home: nothing opened
    } finally {
      ui.unmount();
    }
  });

  it('? shows every key of the screen, with quit; Esc closes it', async () => {
    const ui = renderConsole(world);
    try {
      await ui.waitFor('4 course runs');
      await ui.press('?');
      const help = await ui.waitFor('Keys on Course runs');
      expect(help).toContain('quit');
      expect(help).toContain('filter the list as you type');
      await ui.press(KEY.esc);
      await ui.waitFor('4 course runs');
    } finally {
      ui.unmount();
    }
  });
});
