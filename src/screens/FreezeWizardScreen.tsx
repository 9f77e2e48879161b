import { useEffect } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { FreezePreflight } from '../domain/freeze/freeze-preflight.js';
import type { FreezeJobSummary } from '../domain/freeze/freeze-job.js';
import { useBodySize } from './body-size.js';
import { useConsole, useNavigation } from './console-context.js';
import { Checklist } from './components/Checklist.js';
import { ChoiceList, type Choice } from './components/ChoiceList.js';
import { ErrorLine } from './components/ErrorLine.js';
import { FailedByReason } from './components/FailedByReason.js';
import { ProgressPanel } from './components/ProgressPanel.js';
import type { FreezeJobState } from './freeze-jobs.js';
import { marks, theme } from './theme.js';
import { useFreezeJob } from './use-freeze-status.js';
import { useFreezePreflight } from './use-freeze-preflight.js';
import { useScreenKeys } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// Screen 3, the freeze wizard: the pre-flight checklist, then the job in this process with its
// progress in place and the failed learners as they fail, then the summary and what the CLI
// offers next (run again to complete without the failed learners, or retry them).

type Step = { kind: 'start'; retryFailed: boolean } | { kind: 'recheck' } | { kind: 'back' } | { kind: 'open-run' };

function preflightChoices(p: FreezePreflight): Array<Choice & { step: Step }> {
  if (!p.ready)
    return [
      { label: 'check again', detail: 'after fixing what is marked ✗', step: { kind: 'recheck' } },
      { label: 'back', step: { kind: 'back' } },
    ];
  const failed = p.counts.failed.length;
  const toFreeze = p.counts.remaining;
  const choices: Array<Choice & { step: Step }> = [
    {
      label: `start the freeze: ${toFreeze} learner(s)`,
      detail:
        failed > 0
          ? toFreeze === 0
            ? `only the ${failed} failed learner(s) are left: this completes the run without them and clears the failed list`
            : `the ${failed} learner(s) on the failed list are left out`
          : 'the run completes when nobody fails',
      step: { kind: 'start', retryFailed: false },
    },
  ];
  if (failed > 0)
    choices.push({
      label: `start and retry the ${failed} failed learner(s) too`,
      detail: 'as freeze --retry-failed',
      step: { kind: 'start', retryFailed: true },
    });
  choices.push({ label: 'back', step: { kind: 'back' } });
  return choices;
}

function summaryChoices(job: FreezeJobState): Array<Choice & { step: Step }> {
  const s = job.summary;
  if (!s)
    return [
      { label: 'check again and start over', step: { kind: 'recheck' } },
      { label: 'back', step: { kind: 'back' } },
    ];
  const left = s.failed.length + s.dropped.length;
  switch (s.outcome) {
    case 'finished-with-failures':
      return [
        {
          label: `retry the ${left} failed learner(s)`,
          detail: 'as freeze --retry-failed, for failures that may pass now (timeouts, edX errors)',
          step: { kind: 'start', retryFailed: true },
        },
        {
          label: `run again: complete the run without the ${left} failed learner(s)`,
          detail: 'they stay on the failed list; freeze-user or resync fixes them one by one later',
          step: { kind: 'start', retryFailed: false },
        },
        { label: 'open the run', step: { kind: 'open-run' } },
      ];
    case 'interrupted':
      return [
        { label: 'resume the freeze', detail: 'the learners left are queued again', step: { kind: 'start', retryFailed: false } },
        { label: 'open the run', step: { kind: 'open-run' } },
      ];
    default:
      return [
        { label: 'open the run', step: { kind: 'open-run' } },
        { label: 'back', step: { kind: 'back' } },
      ];
  }
}

function headline(s: FreezeJobSummary): { text: string; tone: 'ok' | 'warn' } {
  switch (s.outcome) {
    case 'already-complete':
      return { text: `${s.courseKey} is already complete: nothing was queued`, tone: 'ok' };
    case 'completed':
      return { text: `${s.courseKey} is complete`, tone: 'ok' };
    case 'finished-with-failures':
      return { text: `${s.courseKey} stays pending: ${s.failed.length + s.dropped.length} learner(s) failed`, tone: 'warn' };
    case 'interrupted':
      return { text: `${s.courseKey} was interrupted: resume it to go on`, tone: 'warn' };
  }
}

function Preflight({ preflight }: { preflight: FreezePreflight }) {
  const c = preflight.counts;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        Pre-flight for {preflight.courseKey}
        <Text color={theme.dim}> — {preflight.title}</Text>
      </Text>
      <Checklist
        labelWidth={26}
        items={preflight.checks.map((check) => ({
          label: check.label,
          outcome: check.ok ? 'ok' : 'fail',
          detail: check.detail,
          fix: check.fix,
        }))}
      />
      <Text wrap="truncate-end">
        eligible {c.eligible} · frozen {c.frozen} · failed {c.failed.length} · remaining {c.remaining}
      </Text>
      <Text color={preflight.ready ? theme.ok : theme.error} bold>
        {preflight.ready ? `${marks.ok} ready to freeze` : `${marks.fail} not ready: fix what is marked ${marks.fail} first`}
      </Text>
    </Box>
  );
}

function Live({ job, width, height }: { job: FreezeJobState; width: number; height: number }) {
  const started = job.started;
  return (
    <Box flexDirection="column">
      {job.progress ? (
        <ProgressPanel
          courseKey={job.courseKey}
          progress={job.progress}
          barWidth={Math.max(10, Math.min(60, width - 2))}
          note={job.phase === 'stopping' ? 'stopping: finishing the learners in flight… (running it again resumes)' : undefined}
        />
      ) : (
        <Spinner label={job.phase === 'stopping' ? 'stopping…' : `starting the freeze of ${job.courseKey}…`} />
      )}
      {started ? (
        <Text color={theme.dim} wrap="truncate-end">
          {started.queued} queued of {started.eligible} eligible · {started.alreadyFrozen} frozen before · {started.skippedFailed} failed
          left out · concurrency {started.concurrency}
        </Text>
      ) : null}
      {job.warningCount > 0 ? (
        <Text color={theme.warn} wrap="truncate-end">
          {marks.warn} {job.warningCount} warning(s): {job.warnings[job.warnings.length - 1]}
        </Text>
      ) : null}
      <Text bold>failed so far, by reason ({job.failures.length})</Text>
      <FailedByReason failed={job.failures} height={Math.max(2, height - 8)} width={width} />
    </Box>
  );
}

function Summary({
  job,
  width,
  height,
  choices,
  selected,
}: {
  job: FreezeJobState;
  width: number;
  height: number;
  choices: Choice[];
  selected: number;
}) {
  const s = job.summary;
  if (!s) {
    return (
      <Box flexDirection="column">
        <ErrorLine error={job.error} prefix={`the freeze of ${job.courseKey} stopped`} />
        {job.progress ? (
          <Text>
            it froze {job.progress.frozen} learner(s) before it stopped; {job.failures.length} failed
          </Text>
        ) : null}
        <ChoiceList choices={choices} selected={selected} />
      </Box>
    );
  }
  const h = headline(s);
  return (
    <Box flexDirection="column">
      <Text bold color={h.tone === 'ok' ? theme.ok : theme.warn} wrap="truncate-end">
        {h.tone === 'ok' ? marks.ok : marks.warn} {h.text}
      </Text>
      <Text wrap="truncate-end">
        eligible {s.eligible} · frozen {s.frozen} (this run {s.frozenThisRun}) · failed {s.failed.length} · remaining {s.remaining}
        {s.dropped.length > 0 ? ` · dropped ${s.dropped.length}` : ''} · {(s.durationMs / 1000).toFixed(1)}s
      </Text>
      {s.sideEffects.finishedLeftover > 0 ? (
        <Text wrap="truncate-end">
          {marks.ok} finished the side effects of {s.sideEffects.finishedLeftover} FinalGrade(s) that an earlier run left due
        </Text>
      ) : null}
      {s.sideEffects.due > 0 ? (
        <Text color={theme.warn} wrap="wrap">
          {marks.warn} {s.sideEffects.due} FinalGrade(s) still have side effects due (a side effect failed): `gradeops side-effects{' '}
          {s.courseKey}` shows and retries them
        </Text>
      ) : null}
      {job.warningCount > 0 ? (
        <Text color={theme.warn} wrap="truncate-end">
          {marks.warn} {job.warningCount} warning(s); the learners are frozen. Last: {job.warnings[job.warnings.length - 1]}
        </Text>
      ) : null}
      <ChoiceList choices={choices} selected={selected} />
      {s.failed.length > 0 ? (
        <>
          <Text bold>failed, by reason ({s.failed.length})</Text>
          <FailedByReason
            failed={s.failed}
            height={Math.max(2, height - 5 - choices.length * 2 - (s.dropped.length > 0 ? Math.min(4, s.dropped.length + 2) : 0))}
            width={width}
          />
        </>
      ) : null}
      {s.dropped.length > 0 ? (
        <>
          <Text bold color={theme.warn} wrap="truncate-end">
            dropped ({s.dropped.length})<Text color={theme.dim}> · on the failed list, no longer eligible</Text>
          </Text>
          <FailedByReason failed={s.dropped} height={Math.min(3, s.dropped.length + 1)} width={width} />
        </>
      ) : null}
    </Box>
  );
}

export function FreezeWizardScreen({ courseKey }: { courseKey: string }) {
  const nav = useNavigation();
  const { jobs, readOnly } = useConsole();
  const { width, height } = useBodySize();
  const job = useFreezeJob(courseKey);
  const phase = !job ? 'preflight' : job.phase === 'finished' || job.phase === 'failed' ? 'summary' : 'live';
  const preflight = useFreezePreflight(courseKey, phase === 'preflight');
  const choices = phase === 'summary' && job ? summaryChoices(job) : preflight.data ? preflightChoices(preflight.data) : [];
  const cursor = useSelection(choices.length);
  // A new step starts with its first choice selected.
  useEffect(() => {
    cursor.setSelected(0);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the step changes
  }, [phase]);

  const take = (step: Step) => {
    switch (step.kind) {
      case 'start':
        if (readOnly) return nav.notify('read-only: freezing is turned off', 'warn');
        jobs.clear(courseKey);
        jobs.start(courseKey, { retryFailed: step.retryFailed });
        return;
      case 'recheck':
        jobs.clear(courseKey);
        preflight.reload();
        return;
      case 'back':
        nav.back();
        return;
      case 'open-run':
        nav.replace({ name: 'run', courseKey });
        return;
    }
  };

  useScreenKeys(
    phase === 'live'
      ? {
          stop: () => {
            jobs.stop(courseKey);
            nav.notify('stopping the freeze: the learners in flight finish; running it again resumes', 'warn');
          },
          back: () => {
            nav.back();
            nav.notify(`the freeze of ${courseKey} goes on; the run screen shows it, q asks before quitting`);
          },
        }
      : {
          up: cursor.up,
          down: cursor.down,
          open: choices.length > 0 ? () => take(choices[cursor.selected].step) : undefined,
          refresh: phase === 'preflight' ? () => preflight.reload() : undefined,
          back: () => nav.back(),
        },
    { labels: { open: 'choose', refresh: 'check again', back: phase === 'live' ? 'leave (it goes on)' : 'back' } },
  );

  if (readOnly) {
    return (
      <Text color={theme.warn}>
        {marks.warn} read-only: freezing is turned off (started with --read-only or GRADEOPS_READ_ONLY=1). Esc goes back.
      </Text>
    );
  }
  if (phase === 'live' && job) return <Live job={job} width={width} height={height} />;
  if (phase === 'summary' && job) return <Summary job={job} width={width} height={height} choices={choices} selected={cursor.selected} />;
  if (preflight.error) {
    return (
      <Box flexDirection="column">
        <ErrorLine error={preflight.error} prefix="the pre-flight checks could not run" />
        <Text color={theme.dim}>R checks again · Esc goes back</Text>
      </Box>
    );
  }
  if (!preflight.data || preflight.loading) return <Spinner label="checking: freeze date, status, running jobs, Redis, edX…" />;
  return (
    <Box flexDirection="column">
      <Preflight preflight={preflight.data} />
      <Text> </Text>
      <ChoiceList choices={choices} selected={cursor.selected} />
    </Box>
  );
}
