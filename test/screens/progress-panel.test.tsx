import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { ProgressPanel } from '../../src/screens/components/ProgressPanel.js';
import type { FreezeProgress } from '../../src/domain/freeze/freeze-progress.js';

const T0 = Date.parse('2026-11-25T10:00:00.000Z');

const progress = (over: Partial<FreezeProgress>, atMs = 0): FreezeProgress => ({
  queued: 200,
  frozen: 0,
  failed: 0,
  done: 0,
  ratePerSecond: 0,
  etaSeconds: null,
  startedOn: new Date(T0).toISOString(),
  updatedOn: new Date(T0 + atMs).toISOString(),
  state: 'running',
  ...over,
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('ProgressPanel', () => {
  it('shows done/queued with percent, frozen, failed, remaining, and a smoothed rate and ETA once there is a basis', async () => {
    const { lastFrame, rerender, unmount } = render(
      <ProgressPanel courseKey="course-v1:MITx+14.100x+2T2026" progress={progress({ frozen: 40, failed: 10, done: 50 })} />,
    );
    expect(lastFrame()).toContain('estimating…');
    expect(lastFrame()).not.toMatch(/NaN|Infinity|—s/);
    // Ten seconds later 100 more are done: 10/s, 50 left → 5 s.
    rerender(
      <ProgressPanel courseKey="course-v1:MITx+14.100x+2T2026" progress={progress({ frozen: 130, failed: 20, done: 150 }, 10_000)} />,
    );
    await tick();
    const frame = lastFrame() ?? '';
    expect(frame).toContain('course-v1:MITx+14.100x+2T2026');
    expect(frame).toContain('150/200 (75%)');
    expect(frame).toContain('frozen 130');
    expect(frame).toContain('failed 20');
    expect(frame).toContain('remaining 50');
    expect(frame).toContain('10.0/s · ETA 5s');
    unmount();
  });

  it('says the pace is being estimated before the first learner is done, and shows a stop note', () => {
    const { lastFrame, unmount } = render(
      <ProgressPanel courseKey="k" progress={progress({})} note="stopping: finishing the learners in flight…" />,
    );
    expect(lastFrame()).toContain('estimating…');
    expect(lastFrame()).toContain('0/200 (0%)');
    expect(lastFrame()).toContain('stopping: finishing the learners in flight');
    unmount();
  });
});
