import React from 'react';
import { Box, Text } from 'ink';
import { ProgressBar } from '@inkjs/ui';
import type { FreezeProgress } from '../../domain/freeze/freeze-progress.js';
import { theme } from '../theme.js';

export interface ProgressPanelProps {
  courseKey: string;
  progress: FreezeProgress;
  note?: string;
}

function formatEta(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** The live view of one freeze job: bar, frozen / failed / remaining, rate and ETA. */
export function ProgressPanel({ courseKey, progress, note }: ProgressPanelProps): React.JSX.Element {
  const percent = progress.queued === 0 ? 100 : Math.round((progress.done / progress.queued) * 100);
  return (
    <Box flexDirection="column">
      <Text>
        Freezing <Text color={theme.accent}>{courseKey}</Text> — {progress.done}/{progress.queued} ({percent}%)
      </Text>
      <Box width={50}>
        <ProgressBar value={percent} />
      </Box>
      <Text>
        <Text color={theme.ok}>frozen {progress.frozen}</Text>
        {'  '}
        <Text color={progress.failed > 0 ? theme.error : theme.dim}>failed {progress.failed}</Text>
        {'  '}
        remaining {progress.queued - progress.done}
        {'  '}
        <Text color={theme.dim}>
          {progress.ratePerSecond}/s · ETA {formatEta(progress.etaSeconds)}
        </Text>
      </Text>
      {note ? <Text color={theme.warn}>{note}</Text> : null}
    </Box>
  );
}
