import React from 'react';
import { Box, Text } from 'ink';
import { ProgressBar } from '@inkjs/ui';
import type { FreezeProgress } from '../../domain/freeze/freeze-progress.js';
import { paceText, type SmoothedRate } from '../../domain/freeze/rate-smoother.js';
import { theme } from '../theme.js';
import { useSmoothedRate } from '../use-smoothed-rate.js';

export interface ProgressPanelProps {
  courseKey: string;
  progress: FreezeProgress;
  note?: string;
  /** The smoothed rate, when the caller keeps it; else the panel smooths the progress it is given. */
  rate?: SmoothedRate;
  /** Width of the bar in cells. */
  barWidth?: number;
}

/** The live view of one freeze job: bar, frozen / failed / remaining, smoothed rate and ETA. */
export function ProgressPanel({ courseKey, progress, note, rate, barWidth = 50 }: ProgressPanelProps): React.JSX.Element {
  const own = useSmoothedRate(rate ? null : progress);
  const shown = rate ?? own;
  const percent = progress.queued === 0 ? 100 : Math.round((progress.done / progress.queued) * 100);
  return (
    <Box flexDirection="column">
      <Text>
        Freezing <Text color={theme.accent}>{courseKey}</Text> — {progress.done}/{progress.queued} ({percent}%)
      </Text>
      <Box width={barWidth}>
        <ProgressBar value={percent} />
      </Box>
      <Text>
        <Text color={theme.ok}>frozen {progress.frozen}</Text>
        {'  '}
        <Text color={progress.failed > 0 ? theme.error : theme.dim}>failed {progress.failed}</Text>
        {'  '}
        remaining {Math.max(0, progress.queued - progress.done)}
        {'  '}
        <Text color={theme.dim}>{paceText(shown)}</Text>
      </Text>
      {note ? <Text color={theme.warn}>{note}</Text> : null}
    </Box>
  );
}
