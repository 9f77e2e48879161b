import { useState } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { FreezeStatus } from '../domain/freeze/freeze-status.js';
import { useConsole, useNavigation } from './console-context.js';
import { Bullet } from './components/Bullet.js';
import { ErrorLine } from './components/ErrorLine.js';
import { TypedConfirm } from './components/TypedConfirm.js';
import { marks, theme } from './theme.js';
import { useAction } from './use-action.js';
import { forceComplete, useRunStatusOnce, type ForceCompleted } from './use-run-writes.js';
import { useScreenKeys } from './use-screen-keys.js';

// Force-complete (spec 2.7 as corrected by 5b): the consequences first, then the same typed
// confirmation of the full course key as the revert; a wrong key does nothing and says so.

function refusalOf(s: FreezeStatus): string | null {
  if (s.freezeDate === null) return 'the course run has no freeze date: set freeze_grade_date first';
  if (!s.canFreeze) return `its freeze date ${s.freezeDate} is not in the past yet`;
  if (s.status === 'complete') return 'it is already complete: nothing to do';
  if (s.running) return `a freeze is running (${s.job?.operator} on ${s.job?.host}): stop it or wait for it first`;
  return null;
}

function Consequences({ s }: { s: FreezeStatus }) {
  return (
    <Box flexDirection="column">
      <Text bold>
        Force-complete <Text color={theme.accent}>{s.courseKey}</Text> <Text color={theme.dim}>— {s.title}</Text>
      </Text>
      <Text wrap="truncate-end">
        now: status {s.status.replace('_', ' ')} · eligible {s.eligible} · frozen {s.frozen} · failed {s.failed.length} · remaining{' '}
        {s.remaining}
      </Text>
      <Text bold>what it does:</Text>
      <Bullet mark={marks.warn} color={theme.warn}>
        marks the grading status complete now, whoever is not frozen: the {s.failed.length} failed and {s.remaining} remaining learner(s)
        never get a FinalGrade from a freeze of this run (freeze-user can still freeze them one by one)
      </Bullet>
      <Bullet mark={marks.warn} color={theme.warn}>
        clears the failed-users list ({s.failed.length} learner(s)); the audit row keeps who was on it
      </Bullet>
      <Bullet mark={marks.warn} color={theme.warn}>
        no freeze runs on it again unless it is reverted first
      </Bullet>
    </Box>
  );
}

export function CompleteScreen({ courseKey }: { courseKey: string }) {
  const nav = useNavigation();
  const { ctx, readOnly } = useConsole();
  const status = useRunStatusOnce(courseKey);
  const complete = useAction<ForceCompleted>();
  const [confirming, setConfirming] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const s = status.data;
  const blocked = s ? refusalOf(s) : null;
  const done = complete.state.phase === 'done' ? complete.state.result : null;

  useScreenKeys(
    {
      open: s && !blocked && !done ? () => setConfirming(true) : undefined,
      refresh: done ? undefined : () => status.reload(),
      back: () => nav.back(),
    },
    { isActive: !confirming || done !== null, labels: { open: 'go on to confirm', refresh: 'read again' } },
  );

  if (readOnly) return <Text color={theme.warn}>{marks.warn} read-only: force-complete is turned off. Esc goes back.</Text>;
  if (!s) return status.error ? <ErrorLine error={status.error} /> : <Spinner label={`reading ${courseKey}…`} />;
  return (
    <Box flexDirection="column">
      <Consequences s={s} />
      <Text> </Text>
      {done ? (
        <Box flexDirection="column">
          <Text bold color={theme.ok} wrap="truncate-end">
            {marks.ok}{' '}
            {done.result.alreadyComplete
              ? `${courseKey} was already complete`
              : `${courseKey} is now marked complete (cleared ${done.result.clearedFailedUsers} learner(s) from the failed list)`}
          </Text>
          {done.audit ? (
            <Text color={theme.dim} wrap="truncate-end">
              audit row #{done.audit.id} · complete-freeze · by {done.audit.operator} ·{' '}
              {done.audit.createdOn.toISOString().slice(0, 19).replace('T', ' ')} UTC
            </Text>
          ) : null}
          {done.result.warnings.map((w) => (
            <Text key={w} color={theme.warn} wrap="wrap">
              {marks.warn} {w}
            </Text>
          ))}
          <Text color={theme.dim}>Esc goes back.</Text>
        </Box>
      ) : blocked ? (
        <Text color={theme.error} bold wrap="wrap">
          {marks.fail} cannot force-complete now: {blocked}
        </Text>
      ) : confirming ? (
        <>
          <TypedConfirm
            prompt="To force-complete, type the full course key. Anything else changes nothing."
            expected={courseKey}
            busy={complete.state.phase === 'running'}
            refusal={refusal}
            onCancel={() => {
              setRefusal(null);
              setConfirming(false);
            }}
            onSubmit={(typed) => {
              if (typed !== courseKey) {
                setRefusal(`the confirmation "${typed}" does not match the course key ${courseKey}: nothing was changed`);
                return;
              }
              setRefusal(null);
              complete.run('force-completing', () => forceComplete(ctx, courseKey));
            }}
          />
          {complete.state.phase === 'failed' ? <ErrorLine error={complete.state.error} prefix="not completed" /> : null}
        </>
      ) : (
        <Text color={theme.dim}>Enter goes on to the typed confirmation · Esc leaves without changing anything</Text>
      )}
    </Box>
  );
}
