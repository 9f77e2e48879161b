import { useState } from 'react';
import { Box, Text } from 'ink';
import { ConfirmInput, Spinner } from '@inkjs/ui';
import type { Diagnosis, NextAction } from '../domain/diagnosis/diagnose.js';
import { useConsole, useNavigation } from './console-context.js';
import { Checklist } from './components/Checklist.js';
import { EdxChanges } from './components/EdxChanges.js';
import { ErrorLine } from './components/ErrorLine.js';
import { SideEffectList } from './components/SideEffectList.js';
import { keyLabel, binding, type ActionId } from './keymap.js';
import { marks, theme } from './theme.js';
import { useAction } from './use-action.js';
import { freezeLearner, refreshEdxData, type EdxRefreshOutcome, type FreezeLearnerOutcome } from './use-learner-actions.js';
import { useDiagnosis } from './use-learners.js';
import { useScreenKeys } from './use-screen-keys.js';

// Screen 4c, one learner in one run: diagnose's checks in order (spec 2.9) with a mark and a
// sentence each, the recommended next step drawn out with the key that does it, and the actions:
// refresh edX data, compute the grade (rule and inputs), freeze this learner, resync.

const NEXT_KEY: Partial<Record<NextAction, ActionId>> = {
  resync: 'resync',
  'freeze-user': 'freeze',
  'refresh-grades': 'refresh-edx',
  'refresh-enrollments': 'refresh-edx',
};

type Outcome = { kind: 'refresh'; result: EdxRefreshOutcome } | { kind: 'freeze'; result: FreezeLearnerOutcome } | { kind: 'compute' };

function ComputeOutcome({ diagnosis }: { diagnosis: Diagnosis }) {
  const c = diagnosis.computed;
  if (!c) {
    const check = diagnosis.checks.find((k) => k.id === 'computed-grade');
    return (
      <Text color={theme.error} wrap="wrap">
        {marks.fail} {check?.detail ?? 'cannot compute the grade from the cached data'}
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      <Text bold>
        computed: grade {c.grade}, passed {String(c.passed)}, paid on edX {String(c.paidOnEdx)}{' '}
        <Text color={theme.dim}>(rule {c.rule})</Text>
      </Text>
      <Text color={theme.dim} wrap="truncate-end">
        {'  '}inputs: percent {JSON.stringify(c.inputs.percent)}, edX passed {JSON.stringify(c.inputs.currentGradePassed)}, enrollment mode{' '}
        {c.inputs.enrollmentMode ?? 'none'}, certificate {c.inputs.certificateType ?? 'none'} / {c.inputs.certificateStatus ?? '—'}
      </Text>
      {c.explanation.map((line) => (
        <Text key={line} wrap="truncate-end">
          {'  '}
          {line}
        </Text>
      ))}
    </Box>
  );
}

function FreezeOutcome({ r, username }: { r: FreezeLearnerOutcome; username: string }) {
  const fg = r.finalGrade;
  return (
    <Box flexDirection="column">
      <Text bold color={theme.ok} wrap="truncate-end">
        {marks.ok} {r.outcome === 'frozen' ? 'froze' : 'already frozen:'} {username}: grade {fg.grade}, passed {String(fg.passed)}, paid on
        edX {String(fg.paidOnEdx)} (audited)
      </Text>
      {r.outcome === 'frozen' ? <SideEffectList effects={r.sideEffects} /> : null}
    </Box>
  );
}

export function DiagnosisScreen({ username, courseKey }: { username: string; courseKey: string }) {
  const nav = useNavigation();
  const { ctx, readOnly } = useConsole();
  const diagnosis = useDiagnosis(username, courseKey);
  const action = useAction<Outcome>();
  const [confirmFreeze, setConfirmFreeze] = useState(false);

  const refresh = () =>
    action.run('refreshing edX data', async () => {
      const result = await refreshEdxData(ctx, username, courseKey);
      diagnosis.reload();
      return { kind: 'refresh', result };
    });
  const freeze = () => {
    setConfirmFreeze(false);
    action.run(`freezing ${username}`, async () => {
      const result = await freezeLearner(ctx, username, courseKey);
      diagnosis.reload();
      return { kind: 'freeze', result };
    });
  };

  useScreenKeys(
    {
      'refresh-edx': refresh,
      compute: () => action.run('computing', async () => ({ kind: 'compute' })),
      freeze: () => {
        action.reset();
        setConfirmFreeze(true);
      },
      resync: () => nav.push({ name: 'resync', username, courseKey }),
      refresh: () => {
        action.reset();
        diagnosis.reload();
      },
      back: () => nav.back(),
    },
    { isActive: !confirmFreeze, labels: { freeze: 'freeze this learner', refresh: 'diagnose again' } },
  );
  useScreenKeys({ back: () => setConfirmFreeze(false) }, { isActive: confirmFreeze, labels: { back: 'do not freeze' } });

  if (!diagnosis.data)
    return diagnosis.error ? <ErrorLine error={diagnosis.error} /> : <Spinner label={`diagnosing ${username} in ${courseKey}…`} />;
  const d = diagnosis.data;
  const nextKey = NEXT_KEY[d.nextAction];
  const offered = nextKey && !(readOnly && binding(nextKey).dangerous);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{username}</Text> in <Text bold>{courseKey}</Text>
      </Text>
      <Checklist
        labelWidth={24}
        items={d.checks.map((c) => ({ label: c.label, outcome: c.outcome === 'fail' ? 'fail' : c.outcome, detail: c.detail }))}
      />
      <Text bold color={theme.accent} inverse wrap="wrap">
        {' '}
        {marks.next} next: {d.nextStep}
        {offered ? ` — press ${keyLabel(binding(nextKey).keys)}` : ''}{' '}
      </Text>
      {diagnosis.error ? <ErrorLine error={diagnosis.error} prefix="diagnosing again failed" /> : null}
      {confirmFreeze ? (
        <Box flexDirection="column">
          <Text wrap="wrap">
            Freeze {username} in {courseKey}? This refreshes their edX data, computes the grade and writes a complete FinalGrade (audited);
            a different existing FinalGrade is never overwritten (resync is for that).
          </Text>
          <Box>
            <Text bold color={theme.warn}>
              Freeze {username}?{' '}
            </Text>
            <ConfirmInput defaultChoice="cancel" onConfirm={freeze} onCancel={() => setConfirmFreeze(false)} />
          </Box>
        </Box>
      ) : null}
      {action.state.phase === 'running' ? <Spinner label={`${action.state.label}…`} /> : null}
      {action.state.phase === 'failed' ? <ErrorLine error={action.state.error} prefix={action.state.label} /> : null}
      {action.state.phase === 'done' && action.state.result.kind === 'refresh' ? (
        <EdxChanges result={action.state.result.result} username={username} />
      ) : null}
      {action.state.phase === 'done' && action.state.result.kind === 'compute' ? <ComputeOutcome diagnosis={d} /> : null}
      {action.state.phase === 'done' && action.state.result.kind === 'freeze' ? (
        <FreezeOutcome r={action.state.result.result} username={username} />
      ) : null}
    </Box>
  );
}
