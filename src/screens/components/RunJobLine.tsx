import { Box, Text } from 'ink';
import type { FreezeStatus } from '../../domain/freeze/freeze-status.js';
import { durationText, paceText } from '../../domain/freeze/rate-smoother.js';
import { marks, theme } from '../theme.js';
import { useSmoothedRate } from '../use-smoothed-rate.js';

/** Who runs the freeze of a run (in any process) and how far it is: the live part of the run screen. */
export function RunJobLine({ status, startedHere }: { status: FreezeStatus; startedHere: boolean }) {
  const progress = status.job?.progress ?? null;
  const rate = useSmoothedRate(status.running ? progress : null);
  if (!status.running || !status.job) {
    const last = status.lastProgress;
    return (
      <Text color={theme.dim} wrap="truncate-end">
        no freeze running
        {last
          ? ` · last job ${last.state} at ${last.updatedOn.slice(0, 19).replace('T', ' ')} UTC: ${last.frozen} frozen, ${last.failed} failed of ${last.queued}`
          : ''}
      </Text>
    );
  }
  const since = Date.parse(status.job.startedOn);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text color={theme.accent} bold>
          {marks.live} freeze running
        </Text>
        <Text>
          {' '}
          by {status.job.operator} on {status.job.host} (PID {status.job.pid}){startedHere ? ', started in this console' : ''}, since{' '}
          {status.job.startedOn.slice(11, 19)} UTC ({durationText((Date.now() - since) / 1000)} ago)
        </Text>
      </Text>
      <Text wrap="truncate-end">
        {progress ? (
          <>
            {'  '}job {progress.done}/{progress.queued} done · {progress.frozen} frozen · {progress.failed} failed ·{' '}
            <Text color={theme.accent}>{paceText(rate)}</Text>
          </>
        ) : (
          '  waiting for the job to publish its progress…'
        )}
      </Text>
    </Box>
  );
}
