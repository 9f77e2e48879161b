import { useMemo } from 'react';
import { Box, Text } from 'ink';
import { ProgressBar, Spinner } from '@inkjs/ui';
import type { FreezeStatus } from '../domain/freeze/freeze-status.js';
import { useBodySize } from './body-size.js';
import { useNavigation } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { FailedByReason, groupByReason } from './components/FailedByReason.js';
import { RunJobLine } from './components/RunJobLine.js';
import { marks, theme } from './theme.js';
import { useFreezeJob, useFreezeStatus } from './use-freeze-status.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 2, one course run live: the counts that add up (spec 5b), who runs its freeze and how
// fast (a job in any process, through the progress it publishes to Redis), the failed learners by
// reason. Read again every second.

function StatusHeader({ status }: { status: FreezeStatus }) {
  const date = status.freezeDate ? `${status.freezeDate.slice(0, 16).replace('T', ' ')} UTC` : 'missing';
  const can = status.freezeDate === null ? 'set it before freezing' : status.canFreeze ? 'passed' : 'ahead: cannot freeze yet';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{status.courseKey}</Text>
        <Text color={theme.dim}> — {status.title}</Text>
      </Text>
      <Text wrap="truncate-end">
        freeze date {date} ({can}) · status{' '}
        <Text bold color={status.status === 'complete' ? theme.ok : status.canFreeze ? theme.warn : undefined}>
          {status.status.replace('_', ' ')}
        </Text>
      </Text>
    </Box>
  );
}

function Counts({ status, width }: { status: FreezeStatus; width: number }) {
  const percent = status.eligible === 0 ? 0 : Math.round((status.frozen / status.eligible) * 100);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        eligible <Text bold>{status.eligible}</Text>
        {' · '}
        <Text color={theme.ok}>frozen {status.frozen}</Text>
        {' · '}
        <Text color={status.failed.length > 0 ? theme.error : undefined}>failed {status.failed.length}</Text>
        {' · '}remaining {status.remaining}
        {status.dropped.length > 0 ? <Text color={theme.warn}> · dropped {status.dropped.length}</Text> : null}
      </Text>
      <Box>
        <Box width={Math.max(10, Math.min(50, width - 18))}>
          <ProgressBar value={percent} />
        </Box>
        <Text> {percent}% frozen</Text>
      </Box>
    </Box>
  );
}

export function RunScreen({ courseKey }: { courseKey: string }) {
  const nav = useNavigation();
  const { width, height } = useBodySize();
  const status = useFreezeStatus(courseKey);
  const job = useFreezeJob(courseKey);
  const failed = status.data?.failed;
  const dropped = status.data?.dropped;
  // One cursor over the failed learners, then the dropped ones, in the order they are drawn.
  const order = useMemo(() => [...groupByReason(failed ?? []).order, ...groupByReason(dropped ?? []).order], [failed, dropped]);
  const cursor = useSelection(order.length);
  const current = order[cursor.selected];
  const go = (route: Parameters<typeof nav.push>[0]) => () => nav.push(route);

  useScreenKeys(
    {
      down: cursor.down,
      up: cursor.up,
      open: current ? go({ name: 'diagnosis', username: current.username, courseKey }) : undefined,
      freeze: go({ name: 'freeze', courseKey }),
      complete: go({ name: 'complete', courseKey }),
      revert: go({ name: 'revert', courseKey }),
      refresh: () => status.reload(),
      back: () => nav.back(),
    },
    { labels: { open: 'diagnose', freeze: 'freeze wizard' } },
  );

  if (!status.data) {
    return status.error ? (
      <ErrorLine error={status.error} prefix={`could not read ${courseKey}`} />
    ) : (
      <Spinner label={`reading ${courseKey}…`} />
    );
  }
  const s = status.data;
  const used = 2 + 2 + (s.running ? 2 : 1) + 1 + (status.error ? 1 : 0) + (s.micromastersTaskGroup ? 1 : 0) + 1;
  const listHeight = height - used;
  // The dropped learners get a share of the rows when there are any (at least 3, at most half).
  const droppedHeight = s.dropped.length === 0 ? 0 : Math.min(s.dropped.length + 2, Math.max(3, Math.floor(listHeight / 2)));
  const failedHeight = Math.max(2, listHeight - droppedHeight);
  return (
    <Box flexDirection="column">
      <StatusHeader status={s} />
      <Counts status={s} width={width} />
      <RunJobLine status={s} startedHere={job !== undefined && job.phase !== 'finished' && job.phase !== 'failed'} />
      {s.micromastersTaskGroup ? (
        <Text color={theme.warn} wrap="truncate-end">
          {marks.warn} a MicroMasters freeze task group may be running for this run (its :1:freeze_grade_ key is set)
        </Text>
      ) : null}
      {status.error ? <ErrorLine error={status.error} prefix="the last refresh failed (showing the one before)" /> : null}
      <Text> </Text>
      <Text bold wrap="truncate-end">
        failed by reason ({s.failed.length})
        {s.failed.length > 0 ? <Text color={theme.dim}> · Enter diagnoses the selected learner</Text> : null}
      </Text>
      <FailedByReason
        failed={s.failed}
        selected={current && cursor.selected < s.failed.length ? cursor.selected : undefined}
        height={s.failed.length > 0 ? failedHeight : 1}
        width={width}
      />
      {s.dropped.length > 0 ? (
        <>
          <Text bold color={theme.warn} wrap="truncate-end">
            dropped ({s.dropped.length})<Text color={theme.dim}> · on the failed list, no longer eligible, so not in the counts above</Text>
          </Text>
          <FailedByReason
            failed={s.dropped}
            selected={current && cursor.selected >= s.failed.length ? cursor.selected - s.failed.length : undefined}
            height={droppedHeight - 1}
            width={width}
          />
        </>
      ) : null}
    </Box>
  );
}
