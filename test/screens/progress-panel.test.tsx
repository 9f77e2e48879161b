import { describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { ProgressPanel } from '../../src/screens/components/ProgressPanel.js';
import type { FreezeProgress } from '../../src/domain/freeze/freeze-progress.js';

const progress = (over: Partial<FreezeProgress>): FreezeProgress => ({
  queued: 200,
  frozen: 0,
  failed: 0,
  done: 0,
  ratePerSecond: 0,
  etaSeconds: null,
  startedOn: '2026-11-25T10:00:00.000Z',
  updatedOn: '2026-11-25T10:00:05.000Z',
  state: 'running',
  ...over,
});

describe('ProgressPanel', () => {
  it('shows done/queued with percent, frozen, failed, remaining, rate and ETA', () => {
    const { lastFrame } = render(
      <ProgressPanel
        courseKey="course-v1:MITx+14.100x+2T2026"
        progress={progress({ frozen: 90, failed: 10, done: 100, ratePerSecond: 12.5, etaSeconds: 125 })}
      />,
    );
    const frame = lastFrame() ?? '';
    expect(frame).toContain('course-v1:MITx+14.100x+2T2026');
    expect(frame).toContain('100/200 (50%)');
    expect(frame).toContain('frozen 90');
    expect(frame).toContain('failed 10');
    expect(frame).toContain('remaining 100');
    expect(frame).toContain('12.5/s');
    expect(frame).toContain('ETA 2m05s');
  });

  it('says the ETA is unknown before the first learner is done, and shows a stop note', () => {
    const { lastFrame } = render(
      <ProgressPanel courseKey="k" progress={progress({})} note="stopping: finishing the learners in flight…" />,
    );
    expect(lastFrame()).toContain('ETA —');
    expect(lastFrame()).toContain('0/200 (0%)');
    expect(lastFrame()).toContain('stopping: finishing the learners in flight');
  });
});
