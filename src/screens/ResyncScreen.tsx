import { useState } from 'react';
import { Box, Text } from 'ink';
import { Spinner } from '@inkjs/ui';
import type { FieldChange, ResyncResult } from '../domain/final-grades/resync.js';
import { useConsole, useNavigation } from './console-context.js';
import { ErrorLine } from './components/ErrorLine.js';
import { SideEffectList } from './components/SideEffectList.js';
import { TypedConfirm } from './components/TypedConfirm.js';
import { marks, theme } from './theme.js';
import { useAction } from './use-action.js';
import { applyResync, useResyncPreview, type AppliedResync } from './use-resync.js';
import { useScreenKeys } from './use-screen-keys.js';

// Screen 5, resync (spec 2.10): the FinalGrade and what edX says now, side by side with the
// differences marked; applied only after the operator types the username; then the audit row
// written and the side effects that followed.

const FIELDS: Array<{ field: FieldChange['field']; label: string }> = [
  { field: 'grade', label: 'grade' },
  { field: 'passed', label: 'passed' },
  { field: 'courseRunPaidOnEdx', label: 'paid on edX' },
  { field: 'status', label: 'status' },
];

function sideBySide(r: ResyncResult): Array<{ label: string; now: string; edx: string; differs: boolean }> {
  const fg = r.before;
  const now: Record<FieldChange['field'], string | number | boolean | null> = fg
    ? { grade: fg.grade, passed: fg.passed, courseRunPaidOnEdx: fg.paidOnEdx, status: fg.status }
    : { grade: null, passed: null, courseRunPaidOnEdx: null, status: null };
  const edx: Record<FieldChange['field'], string | number | boolean> = {
    grade: r.computed.grade,
    passed: r.computed.passed,
    courseRunPaidOnEdx: r.computed.paidOnEdx,
    status: 'complete',
  };
  const changed = new Set(r.changes.map((c) => c.field));
  return FIELDS.map(({ field, label }) => ({
    label,
    now: now[field] === null ? 'none' : String(now[field]),
    edx: String(edx[field]),
    differs: changed.has(field),
  }));
}

function Comparison({ r }: { r: ResyncResult }) {
  const rows = sideBySide(r);
  return (
    <Box flexDirection="column">
      <Box>
        <Box width={14}>
          <Text color={theme.dim} bold>
            field
          </Text>
        </Box>
        <Box width={20}>
          <Text color={theme.dim} bold>
            FinalGrade now
          </Text>
        </Box>
        <Box width={20}>
          <Text color={theme.dim} bold>
            edX says now
          </Text>
        </Box>
      </Box>
      {rows.map((row) => (
        <Box key={row.label}>
          <Box width={14}>
            <Text bold={row.differs}>{row.label}</Text>
          </Box>
          <Box width={20}>
            <Text color={row.differs ? theme.error : undefined}>{row.now}</Text>
          </Box>
          <Box width={20}>
            <Text color={row.differs ? theme.ok : undefined} bold={row.differs}>
              {row.edx}
            </Text>
          </Box>
          <Text color={theme.warn}>{row.differs ? `${marks.differs} differs` : ''}</Text>
        </Box>
      ))}
      <Text color={theme.dim} wrap="truncate-end">
        rule {r.computed.rule}: {r.computed.explanation.slice(1).join('; ')}
      </Text>
    </Box>
  );
}

function Applied({ applied, username }: { applied: AppliedResync; username: string }) {
  const { result, audit } = applied;
  return (
    <Box flexDirection="column">
      <Text bold color={theme.ok} wrap="truncate-end">
        {marks.ok} applied: {username}'s FinalGrade in {result.courseKey} now matches edX
      </Text>
      {audit ? (
        <Box flexDirection="column">
          <Text bold>audit row written</Text>
          <Text wrap="truncate-end">
            {'  '}#{audit.id} · {audit.action} · by {audit.operator} · {audit.createdOn.toISOString().slice(0, 19).replace('T', ' ')} UTC
          </Text>
          <Text color={theme.dim} wrap="truncate-end">
            {'  '}before {JSON.stringify(pick(audit.before))}
          </Text>
          <Text color={theme.dim} wrap="truncate-end">
            {'  '}after {'  '}
            {JSON.stringify(pick(audit.after))}
          </Text>
        </Box>
      ) : null}
      {result.sideEffects ? <SideEffectList effects={result.sideEffects} /> : null}
    </Box>
  );
}

/** The fields an operator compares in an audit row's FinalGrade (ids and timestamps left out). */
function pick(value: unknown): unknown {
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown> | null;
  if (!v) return null;
  return { grade: v.grade, passed: v.passed, course_run_paid_on_edx: v.course_run_paid_on_edx, status: v.status };
}

export function ResyncScreen({ username, courseKey }: { username: string; courseKey: string }) {
  const nav = useNavigation();
  const { ctx, readOnly } = useConsole();
  const preview = useResyncPreview(username, courseKey);
  const apply = useAction<AppliedResync>();
  const [refusal, setRefusal] = useState<string | null>(null);
  const r = preview.data;
  const confirming = Boolean(r && r.changes.length > 0 && apply.state.phase !== 'done' && !readOnly);

  useScreenKeys(
    { refresh: apply.state.phase === 'done' ? undefined : () => preview.reload(), back: () => nav.back() },
    { isActive: !confirming || apply.state.phase === 'running', labels: { refresh: 'ask edX again' } },
  );

  if (readOnly) return <Text color={theme.warn}>{marks.warn} read-only: resync is turned off. Esc goes back.</Text>;
  if (!r) return preview.error ? <ErrorLine error={preview.error} prefix="cannot compare with edX" /> : <Spinner label="asking edX…" />;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        Resync <Text bold>{username}</Text> in <Text bold>{courseKey}</Text>
        <Text color={theme.dim}>
          {' '}
          · edX asked again just now ({r.refresh.currentGrades} current grade(s) cached
          {r.refresh.tokenRefreshed ? ', token refreshed' : ''})
        </Text>
      </Text>
      <Comparison r={r} />
      {preview.error ? <ErrorLine error={preview.error} prefix="asking edX again failed (showing the answer before)" /> : null}
      <Text> </Text>
      {r.changes.length === 0 ? (
        <Text color={theme.ok}>
          {marks.ok} {username}'s FinalGrade already matches edX: nothing to change. Esc goes back.
        </Text>
      ) : apply.state.phase === 'done' ? (
        <Applied applied={apply.state.result} username={username} />
      ) : (
        <>
          <TypedConfirm
            prompt={`Applying writes the edX values above into ${username}'s FinalGrade (${r.changes.length} field(s)), with an audit row naming you, ${ctx.operator}; then the side effects of a FinalGrade save run.`}
            expected={username}
            busy={apply.state.phase === 'running'}
            refusal={refusal}
            onCancel={() => nav.back()}
            onSubmit={(typed) => {
              if (typed !== username) {
                setRefusal(`"${typed}" is not the username ${username}: nothing was written`);
                return;
              }
              setRefusal(null);
              apply.run('applying the resync', () => applyResync(ctx, username, courseKey));
            }}
          />
          {apply.state.phase === 'running' ? <Spinner label="writing the FinalGrade…" /> : null}
          {apply.state.phase === 'failed' ? <ErrorLine error={apply.state.error} prefix="the resync was not applied" /> : null}
        </>
      )}
    </Box>
  );
}
