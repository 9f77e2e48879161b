import { useState } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import { isOpsError } from '../domain/errors.js';
import { DEPENDENT_REASONS, type RevertPreview } from '../domain/final-grades/revert-preview.js';
import { restoreFreeze, type RestoreResult } from '../domain/final-grades/restore.js';
import { revertFreeze, type RevertResult } from '../domain/final-grades/revert.js';
import type { Dependents } from '../domain/final-grades/revert.js';
import { useConsole, useNavigation } from './console-context.js';
import { ChoiceList } from './components/ChoiceList.js';
import { Bullet } from './components/Bullet.js';
import { ErrorLine } from './components/ErrorLine.js';
import { TypedConfirm } from './components/TypedConfirm.js';
import { marks, theme } from './theme.js';
import { useAction } from './use-action.js';
import { useRevertPreview } from './use-run-writes.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 6, the guided revert (spec 2.10 + 5b): first what goes and what stays (and why), then
// the snapshot, then the full course key typed; a wrong key does nothing and says so. At the end
// the snapshot id, and restoring it from the same screen (the key typed again).

function WhatGoes({ p }: { p: RevertPreview }) {
  const deps = Object.entries(p.dependents) as Array<[keyof Dependents, number]>;
  return (
    <Box flexDirection="column">
      <Text bold>
        Reverting <Text color={theme.accent}>{p.courseKey}</Text> <Text color={theme.dim}>— {p.title}</Text>
      </Text>
      <Text bold>removes:</Text>
      <Text wrap="truncate-end">
        {'  '}
        <Text color={theme.error}>{marks.fail}</Text> {p.finalGrades.total - p.audited.length} FinalGrade(s) ({p.finalGrades.complete}{' '}
        complete, {p.finalGrades.pending} pending{p.audited.length > 0 ? `, less the ${p.audited.length} kept below` : ''})
      </Text>
      <Text wrap="truncate-end">
        {'  '}
        <Text color={theme.error}>{marks.fail}</Text>{' '}
        {p.gradingStatus
          ? `the grading status (${p.gradingStatus.replace('_', ' ')}): the run can be frozen again`
          : 'no grading status (none is set)'}
      </Text>
      <Text wrap="truncate-end">
        {'  '}
        <Text color={theme.error}>{marks.fail}</Text> the failed-users list ({p.failedUsers} learner(s))
      </Text>
      {p.audited.length > 0 ? (
        <Text color={theme.warn} wrap="truncate-end">
          {'  '}
          {marks.warn} keeps {p.audited.length} FinalGrade(s) edited in the Django admin (MicroMasters forbids deleting them):{' '}
          {p.audited
            .slice(0, 5)
            .map((a) => a.username)
            .join(', ')}
          {p.audited.length > 5 ? ', …' : ''}
        </Text>
      ) : null}
      <Text bold>leaves alone, for review by hand:</Text>
      {deps.map(([key, count]) => (
        <Bullet key={key} mark={marks.info}>
          <Text color={count === 0 ? theme.dim : undefined}>
            {count} {DEPENDENT_REASONS[key].label}
          </Text>
          <Text color={theme.dim}> — {DEPENDENT_REASONS[key].why}</Text>
        </Bullet>
      ))}
      <Text wrap="wrap">
        <Text bold>snapshot first:</Text> every FinalGrade and the grading status are saved in the same transaction, so restore brings them
        back exactly.
      </Text>
    </Box>
  );
}

function Reverted({ r }: { r: RevertResult }) {
  return (
    <Box flexDirection="column">
      <Text bold color={theme.ok} wrap="truncate-end">
        {marks.ok} reverted {r.courseKey}: deleted {r.deletedFinalGrades} FinalGrade(s)
        {r.deletedGradingStatus ? ' and the grading status' : ''}
      </Text>
      <Text bold wrap="truncate-end">
        snapshot <Text color={theme.accent}>{r.snapshotId}</Text>
        <Text color={theme.dim}>
          {' '}
          — the CLI restores it too: gradeops restore-freeze {r.snapshotId} --confirm {r.courseKey}
        </Text>
      </Text>
      {r.keptAuditedFinalGrades.length > 0 ? (
        <Text color={theme.warn} wrap="truncate-end">
          {marks.warn} kept {r.keptAuditedFinalGrades.length} admin-edited FinalGrade(s):{' '}
          {r.keptAuditedFinalGrades.map((k) => k.username).join(', ')}
        </Text>
      ) : null}
    </Box>
  );
}

type Step = 'preview' | 'confirm' | 'reverted' | 'confirm-restore' | 'restored';

export function RevertScreen({ courseKey }: { courseKey: string }) {
  const nav = useNavigation();
  const { ctx, readOnly } = useConsole();
  const preview = useRevertPreview(courseKey);
  const revert = useAction<RevertResult>();
  const restore = useAction<RestoreResult>();
  const [step, setStep] = useState<Step>('preview');
  const [refusal, setRefusal] = useState<string | null>(null);
  const after = ['restore snapshot now', 'open the run', 'back'] as const;
  const cursor = useSelection(after.length);
  const p = preview.data;
  const reverted = revert.state.phase === 'done' ? revert.state.result : null;

  const submitRevert = (typed: string) => {
    setRefusal(null);
    // The domain checks the key (assertConfirmed): a wrong one throws before anything is read or written.
    revert.run('reverting', async () => {
      try {
        const result = await revertFreeze(ctx, courseKey, { confirm: typed, keepAudited: true });
        setStep('reverted');
        return result;
      } catch (error) {
        if (isOpsError(error) && error.code === 'confirmation-mismatch') setRefusal(`${error.message}: nothing was changed`);
        throw error;
      }
    });
  };
  const submitRestore = (typed: string) => {
    if (!reverted) return;
    setRefusal(null);
    restore.run('restoring', async () => {
      try {
        const result = await restoreFreeze(ctx, reverted.snapshotId, { confirm: typed });
        setStep('restored');
        return result;
      } catch (error) {
        if (isOpsError(error) && error.code === 'confirmation-mismatch') setRefusal(`${error.message}: nothing was restored`);
        throw error;
      }
    });
  };

  const typing = step === 'confirm' || step === 'confirm-restore';
  useScreenKeys(
    step === 'reverted'
      ? {
          up: cursor.up,
          down: cursor.down,
          open: () => {
            const choice = after[cursor.selected];
            if (choice === 'restore snapshot now') {
              restore.reset();
              setRefusal(null);
              setStep('confirm-restore');
            } else if (choice === 'open the run') nav.replace({ name: 'run', courseKey });
            else nav.back();
          },
          back: () => nav.back(),
        }
      : {
          open: step === 'preview' && p && !p.refusal ? () => setStep('confirm') : undefined,
          refresh: step === 'preview' ? () => preview.reload() : undefined,
          back: () => nav.back(),
        },
    { isActive: !typing, labels: { open: step === 'preview' ? 'go on to confirm' : 'choose', refresh: 'read again' } },
  );

  if (readOnly) return <Text color={theme.warn}>{marks.warn} read-only: revert is turned off. Esc goes back.</Text>;
  if (!p)
    return preview.error ? <ErrorLine error={preview.error} /> : <Spinner label={`reading what a revert of ${courseKey} would remove…`} />;
  const refusedByDomain =
    revert.state.phase === 'failed' && !(isOpsError(revert.state.error) && revert.state.error.code === 'confirmation-mismatch');
  return (
    <Box flexDirection="column">
      {step === 'restored' && restore.state.phase === 'done' ? (
        <Box flexDirection="column">
          <Text bold color={theme.ok} wrap="truncate-end">
            {marks.ok} restored snapshot {restore.state.result.snapshotId} of {restore.state.result.courseKey}:{' '}
            {restore.state.result.restoredFinalGrades} FinalGrade(s), grading status {restore.state.result.restoredGradingStatus ?? 'none'}
          </Text>
          <Text color={theme.dim}>Esc goes back.</Text>
        </Box>
      ) : reverted ? (
        <Box flexDirection="column">
          <Reverted r={reverted} />
          <Text> </Text>
          {step === 'confirm-restore' ? (
            <>
              <TypedConfirm
                prompt={`Restoring snapshot ${reverted.snapshotId} writes back the ${reverted.deletedFinalGrades} FinalGrade(s) and the grading status exactly as they were.`}
                expected={courseKey}
                busy={restore.state.phase === 'running'}
                refusal={refusal}
                onCancel={() => setStep('reverted')}
                onSubmit={submitRestore}
              />
              {restore.state.phase === 'failed' && !refusal ? <ErrorLine error={restore.state.error} prefix="not restored" /> : null}
            </>
          ) : (
            <ChoiceList
              choices={[
                { label: `restore snapshot ${reverted.snapshotId} now`, detail: 'type the course key again to confirm' },
                { label: 'open the run' },
                { label: 'back' },
              ]}
              selected={cursor.selected}
            />
          )}
        </Box>
      ) : (
        <Box flexDirection="column">
          <WhatGoes p={p} />
          {p.refusal ? (
            <Text color={theme.error} bold wrap="wrap">
              {marks.fail} cannot revert now: {p.refusal}
            </Text>
          ) : step === 'confirm' ? (
            <>
              <TypedConfirm
                prompt="To revert, type the full course key. Anything else changes nothing."
                expected={courseKey}
                busy={revert.state.phase === 'running'}
                refusal={refusal}
                onCancel={() => {
                  setRefusal(null);
                  setStep('preview');
                }}
                onSubmit={submitRevert}
              />
              {refusedByDomain ? (
                <ErrorLine error={revert.state.phase === 'failed' ? revert.state.error : null} prefix="not reverted" />
              ) : null}
            </>
          ) : (
            <Text color={theme.dim}>Enter goes on to the typed confirmation · Esc leaves without changing anything</Text>
          )}
        </Box>
      )}
    </Box>
  );
}
