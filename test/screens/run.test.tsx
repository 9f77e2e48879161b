import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishProgress, type FreezeProgress } from '../../src/domain/freeze/freeze-progress.js';
import { runFreezeJob } from '../../src/domain/freeze/freeze-job.js';
import { createTestWorld, type TestRun, type TestWorld } from '../helpers/world.js';
import { KEY, renderConsole } from '../helpers/console.js';

// Screen 2: one course run live, against a real database and Redis.

let world: TestWorld;
let run: TestRun;
let watched: TestRun;

beforeAll(async () => {
  world = await createTestWorld({ timeoutMs: 10_000 });
  run = await world.addRun();
  await world.addLearners(run, 4);
  await world.addLearner(run, { username: 'unlinked-una', linked: false });
  for (const username of ['revoked-rex', 'revoked-ria']) {
    const learner = await world.addLearner(run, { username, token: 'needs-refresh' });
    world.sims.edxorg.knobs.unauthorizedUsers.add(learner.uid);
  }
  await runFreezeJob(world.ctx(), run.key, { concurrency: 2 });
  // On the failed list, but edX no longer reports a grade for her: dropped, not counted (spec 5b).
  const gone = await world.addLearner(run, { username: 'gone-greta', cache: { grade: false } });
  await world.redis.lpush(`failed_users_${run.key}`, String(gone.id));
  watched = await world.addRun();
  await world.addLearners(watched, 3);
});

afterAll(async () => {
  await world.close();
});

describe('run screen', () => {
  it('shows the counts that add up, and the failed learners grouped by reason', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'run', courseKey: run.key }, columns: 120 });
    try {
      const frame = await ui.waitFor('failed by reason (3)');
      expect(frame).toContain(run.key);
      expect(frame).toContain('status pending');
      expect(frame).toContain('no freeze running');
      expect(frame).toMatch(/invalid-credentials \(2\)[\s\S]*revoked-r[\s\S]*no-social-auth \(1\)[\s\S]*unlinked-una/);
      expect(frame).toMatch(/eligible 7 · frozen 4 · failed 3 · remaining 0 · dropped 1/);
      expect(frame).toMatch(/dropped \(1\) · on the failed list, no longer eligible[\s\S]*no-current-grade \(1\)[\s\S]*gone-greta/);
      expect(frame).toContain('f freeze wizard');
    } finally {
      ui.unmount();
    }
  });

  it('watches a freeze running in another process through the progress it publishes to Redis, with a smoothed rate', async () => {
    const lock = `gradeops:freeze:lock:${watched.key}`;
    const startedOn = new Date(Date.now() - 60_000).toISOString();
    await world.redis.set(lock, JSON.stringify({ token: 't', operator: 'alice-ops', host: 'batch-host', pid: 4242, startedOn }));
    const base = Date.parse(startedOn);
    const at = (done: number, seconds: number): FreezeProgress => ({
      queued: 300,
      frozen: done,
      failed: 0,
      done,
      ratePerSecond: 99, // the job's own figure: the screen smooths what it sees instead
      etaSeconds: 1,
      startedOn,
      updatedOn: new Date(base + seconds * 1000).toISOString(),
      state: 'running',
    });
    await publishProgress(world.redis, watched.key, at(0, 0));
    const ui = renderConsole(world, { initialRoute: { name: 'run', courseKey: watched.key }, columns: 120 });
    try {
      let frame = await ui.waitFor('freeze running');
      expect(frame).toContain('by alice-ops on batch-host (PID 4242)');
      expect(frame).toContain('estimating…');
      expect(frame).not.toMatch(/NaN|Infinity|99/);
      await publishProgress(world.redis, watched.key, at(40, 4)); // 10/s over four seconds
      frame = await ui.waitFor('job 40/300');
      expect(frame).toContain('10.0/s · ETA 26s');
      await publishProgress(world.redis, watched.key, at(60, 6));
      frame = await ui.waitFor('job 60/300');
      expect(frame).toMatch(/10\.0\/s · ETA 2\ds/);
    } finally {
      ui.unmount();
      await world.redis.del(lock);
    }
  });

  it('Esc goes back to the course runs', async () => {
    const ui = renderConsole(world, { initialRoute: { name: 'home' }, columns: 120 });
    try {
      await ui.waitFor(run.key);
      await ui.press('/');
      await ui.type(run.key.split('+')[1]);
      await ui.press(KEY.enter);
      await ui.waitFor('failed by reason (3)');
      await ui.press(KEY.esc);
      await ui.waitFor('course runs ·');
    } finally {
      ui.unmount();
    }
  });
});
