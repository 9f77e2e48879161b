import React, { useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { ConfirmInput, Spinner } from '@inkjs/ui';
import { isExamFileError } from '../domain/exams/exam-file-error.js';
import { projectExamGradeFile } from '../domain/exams/exam-projection.js';
import { useBodySize } from './body-size.js';
import { useConsole, useNavigation } from './console-context.js';
import { Checklist } from './components/Checklist.js';
import { ErrorLine } from './components/ErrorLine.js';
import { ProjectionTable } from './components/ProjectionTable.js';
import { TypedConfirm } from './components/TypedConfirm.js';
import { readAndCheck, runWrite, WRITE_QUESTIONS, type WriteStep } from './exam-run-actions.js';
import { examSteps, firstOpenStep, NO_SESSION, type ExamSession, type ExamStep } from './exam-run-steps.js';
import { marks, theme } from './theme.js';
import { useAction } from './use-action.js';
import { useExamRunState } from './use-exam-runs.js';
import { useScreenKeys, type Keypress } from './use-screen-keys.js';
import { useSelection } from './use-selection.js';

// One exam run's runbook as a checklist (issue 9 §7): the file checked, its projection reviewed,
// the counts confirmed (session-only), then the writes — load, release, combined grades,
// certificates — each confirmed first, with a spinner while it runs and its result in one line.
// The facts come from examRunState, read again after each write.

type Mode = { name: 'steps' } | { name: 'path' } | { name: 'confirm-counts' } | { name: 'confirm-write'; step: WriteStep };

type Outcome = { kind: 'checked' } | { kind: 'projected' } | { kind: 'written'; line: string };

const SHOWN_BAD_ROWS = 8;

function BadRows({ error }: { error: unknown }) {
  if (!isExamFileError(error) || error.fileLevel) return null;
  const shown = error.problems.slice(0, SHOWN_BAD_ROWS);
  return (
    <Box flexDirection="column">
      {shown.map((p) => (
        <Text key={`${p.line} ${p.reason}`} color={theme.error} wrap="truncate-end">
          {'  '}line {p.line}: {p.reason}
        </Text>
      ))}
      {error.problems.length > shown.length ? (
        <Text color={theme.dim}>
          {'  '}… and {error.problems.length - shown.length} more (gradeops exams import --json lists them all)
        </Text>
      ) : null}
    </Box>
  );
}

export function ExamRunScreen({ examRunId }: { examRunId: number }): React.JSX.Element {
  const nav = useNavigation();
  const { ctx, readOnly } = useConsole();
  const { height } = useBodySize();
  const state = useExamRunState(examRunId);
  const [session, setSession] = useState<ExamSession>(NO_SESSION);
  const [mode, setMode] = useState<Mode>({ name: 'steps' });
  const [refusal, setRefusal] = useState<string | null>(null);
  const action = useAction<Outcome>();
  const steps = useMemo(() => (state.data ? examSteps(state.data, session) : []), [state.data, session]);
  const cursor = useSelection(steps.length);
  const current: ExamStep | undefined = steps[cursor.selected];

  // Start on the first step not done, once the state is known.
  const placed = useRef(false);
  const { setSelected } = cursor;
  useEffect(() => {
    if (placed.current || steps.length === 0) return;
    placed.current = true;
    setSelected(firstOpenStep(steps));
  }, [steps, setSelected]);

  const checkFile = (path: string) => {
    setMode({ name: 'steps' });
    if (!path) return;
    // Another file starts the session over: its projection and counts are not the old file's.
    setSession(NO_SESSION);
    action.run(`checking ${path}`, async () => {
      const file = await readAndCheck(ctx, path);
      setSession({ ...NO_SESSION, file });
      return { kind: 'checked' };
    });
  };
  const project = () => {
    const file = session.file;
    if (!file) return;
    action.run('projecting (the real commands, rolled back)', async () => {
      const projection = await projectExamGradeFile(ctx, file.text, file.check.fileName);
      setSession((s) => (s.file === file ? { ...s, projection, reviewed: true, confirmed: false } : s));
      return { kind: 'projected' };
    });
  };
  const confirmCounts = (typed: string) => {
    const expected = String(session.projection?.changed.length ?? 0);
    if (typed !== expected) {
      setRefusal(`"${typed}" is not ${expected}: the counts are not confirmed, nothing was written`);
      return;
    }
    setRefusal(null);
    setSession((s) => ({ ...s, confirmed: true }));
    setMode({ name: 'steps' });
    cursor.down();
  };
  const write = (step: WriteStep) => {
    setMode({ name: 'steps' });
    const data = state.data;
    if (!data) return;
    const file = session.file;
    action.run(WRITE_LABELS[step], async () => {
      try {
        const outcome = await runWrite(ctx, step, data, file);
        const recheck = outcome.recheck;
        if (recheck && file) setSession((s) => (s.file === file ? { ...s, file: { ...file, check: recheck } } : s));
        cursor.down(); // on to the next step
        return { kind: 'written', line: outcome.line };
      } finally {
        state.reload();
      }
    });
  };

  const doStep = () => {
    if (!current || action.state.phase === 'running') return;
    if (current.blocked) {
      nav.notify(`${current.label}: ${current.blocked}`, 'warn');
      return;
    }
    setRefusal(null);
    if (current.id === 'received') startPath();
    else if (current.id === 'reviewed') project();
    else if (current.id === 'confirmed') setMode({ name: 'confirm-counts' });
    else setMode({ name: 'confirm-write', step: current.id });
  };

  // The CSV path is typed here, through a ref (as the course runs' filter): the keys sent right
  // after Enter arrive before React has drawn the field, and must neither be lost nor taken as
  // actions (the `u` of a path would open the learner search).
  const typing = useRef({ active: false, text: '' });
  const [pathText, setPathText] = useState('');
  const setTyped = (text: string) => {
    typing.current.text = text;
    setPathText(text);
  };
  function startPath() {
    typing.current = { active: true, text: '' };
    setTyped(session.file?.path ?? '');
    nav.setTextEntry(true);
    setMode({ name: 'path' });
  }
  const stopPath = () => {
    typing.current.active = false;
    nav.setTextEntry(false);
    setMode({ name: 'steps' });
  };
  const capturePath = ({ input, key }: Keypress): boolean => {
    if (!typing.current.active) return false;
    if (key.escape) stopPath();
    else if (key.return) {
      stopPath();
      checkFile(typing.current.text.trim());
    } else if (key.backspace || key.delete) setTyped(typing.current.text.slice(0, -1));
    else if (key.ctrl && input === 'u') setTyped('');
    else if (input && !key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow) setTyped(typing.current.text + input);
    return true;
  };

  // Read-only: a write step's Enter is left out of the footer, and pressing it says why.
  const currentRef = useRef(current);
  currentRef.current = current;
  const refuseReadOnlyWrite = ({ key }: Keypress): boolean => {
    if (!readOnly || !key.return || !currentRef.current?.writes) return false;
    nav.notify(`read-only: ${currentRef.current.label} is turned off (started with --read-only or GRADEOPS_READ_ONLY=1)`, 'warn');
    return true;
  };

  const enteringPath = mode.name === 'path';
  useScreenKeys(
    enteringPath
      ? // Typed keys, Enter and Esc are the path's (capturePath); offered so the footer names them.
        { open: () => {}, back: () => {} }
      : {
          down: cursor.down,
          up: cursor.up,
          open: current && !(readOnly && current.writes) ? doStep : undefined,
          refresh: () => state.reload(),
          back: () => nav.back(),
        },
    {
      isActive: mode.name === 'steps' || enteringPath,
      textEntry: enteringPath,
      capture: (press) => capturePath(press) || refuseReadOnlyWrite(press),
      labels: enteringPath
        ? { open: 'check the file', back: 'cancel' }
        : { open: current?.action ?? 'do this step', refresh: 'read the state again' },
    },
  );
  useScreenKeys({ back: () => setMode({ name: 'steps' }) }, { isActive: mode.name === 'confirm-write', labels: { back: 'do not write' } });

  if (!state.data) return state.error ? <ErrorLine error={state.error} /> : <Spinner label={`reading exam run ${examRunId}…`} />;
  const s = state.data;
  const showProjection =
    session.projection !== null && (mode.name === 'confirm-counts' || current?.id === 'reviewed' || current?.id === 'confirmed');
  // At 80×24 the checklist, the projection and the confirmation do not all fit: the checklist
  // then shows only the step at hand, and the changed learners get the lines left.
  const fixedLines =
    1 +
    (readOnly ? 1 : 0) +
    (mode.name === 'confirm-counts' ? 4 + (refusal ? 1 : 0) : 0) +
    (action.state.phase === 'idle' || (action.state.phase === 'done' && action.state.result.kind !== 'written') ? 0 : 2);
  const projectionLines = session.projection ? 4 + Object.keys(session.projection.after.courseCertificates).length + 1 : 0;
  const compact = showProjection && fixedLines + steps.length + projectionLines > height;
  const shownSteps = compact && current ? [current] : steps;
  const changedRoom = height - fixedLines - shownSteps.length - projectionLines - 1;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>
          exam run {s.id} · {s.course}
        </Text>{' '}
        {s.courseTitle}{' '}
        <Text color={theme.dim}>
          · {s.program} · {s.semester ?? s.examSeriesCode}
        </Text>
      </Text>
      {readOnly ? (
        <Text color={theme.warn} wrap="truncate-end">
          {marks.warn} read-only: the file can be checked and projected; load, release, populate and generate are turned off
        </Text>
      ) : null}
      <Checklist
        labelWidth={28}
        items={shownSteps.map((step) => ({
          label: `${step === current ? marks.selected : ' '} ${step.label}`,
          outcome: step.outcome,
          detail: step.detail,
        }))}
      />
      {state.error ? <ErrorLine error={state.error} prefix="reading the state again failed" /> : null}
      {mode.name === 'path' ? (
        <Box>
          <Text bold color={theme.accent}>
            CSV path:{' '}
          </Text>
          <Text>{pathText}</Text>
          <Text inverse> </Text>
        </Box>
      ) : null}
      {mode.name === 'confirm-counts' && session.projection ? (
        <TypedConfirm
          prompt="To confirm the counts below, type the number of course outcomes that change."
          expected={String(session.projection.changed.length)}
          refusal={refusal}
          onCancel={() => {
            setRefusal(null);
            setMode({ name: 'steps' });
          }}
          onSubmit={confirmCounts}
        />
      ) : null}
      {mode.name === 'confirm-write' ? (
        <Box flexDirection="column">
          <Text wrap="wrap">{WRITE_QUESTIONS[mode.step](s, session.file)}</Text>
          <Box>
            <Text bold color={theme.warn}>
              {WRITE_LABELS[mode.step]}?{' '}
            </Text>
            <ConfirmInput defaultChoice="cancel" onConfirm={() => write(mode.step)} onCancel={() => setMode({ name: 'steps' })} />
          </Box>
          <Text color={theme.dim}>y writes, as {ctx.operator} · n or Esc leaves it</Text>
        </Box>
      ) : null}
      {action.state.phase === 'running' ? <Spinner label={`${action.state.label}…`} /> : null}
      {action.state.phase === 'failed' ? (
        <Box flexDirection="column">
          <ErrorLine error={action.state.error} prefix={action.state.label} />
          <BadRows error={action.state.error} />
        </Box>
      ) : null}
      {action.state.phase === 'done' && action.state.result.kind === 'written' ? (
        <Text color={theme.ok} wrap="truncate-end">
          {marks.ok} {action.state.result.line}
        </Text>
      ) : null}
      {showProjection && session.projection ? <ProjectionTable projection={session.projection} maxChanged={changedRoom} /> : null}
    </Box>
  );
}

const WRITE_LABELS: Record<WriteStep, string> = {
  loaded: 'load the grades',
  released: 'release the exam run',
  combined: 'populate the combined grades',
  certificates: 'generate the certificates',
};
