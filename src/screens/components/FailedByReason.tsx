import { Box, Text } from 'ink';
import { marks, theme } from '../theme.js';

export interface FailedLearner {
  username: string;
  reason: string;
  message: string;
}

type Line = { kind: 'reason'; reason: string; count: number } | { kind: 'learner'; learner: FailedLearner; index: number };

/** The failed learners grouped by reason (largest group first), each learner once, in failing order within a group. */
export function groupByReason(failed: readonly FailedLearner[]): { lines: Line[]; order: FailedLearner[] } {
  const groups = new Map<string, FailedLearner[]>();
  for (const f of failed) {
    const list = groups.get(f.reason) ?? [];
    list.push(f);
    groups.set(f.reason, list);
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const lines: Line[] = [];
  const order: FailedLearner[] = [];
  for (const [reason, list] of sorted) {
    lines.push({ kind: 'reason', reason, count: list.length });
    for (const learner of list) {
      lines.push({ kind: 'learner', learner, index: order.length });
      order.push(learner);
    }
  }
  return { lines, order };
}

/**
 * The failed learners under their reasons. `selected` indexes the learners in display order
 * (groupByReason's `order`); only the lines that fit in `height` are drawn, the selection in view.
 */
export function FailedByReason({
  failed,
  selected,
  height,
  width,
}: {
  failed: readonly FailedLearner[];
  selected?: number;
  height: number;
  width: number;
}) {
  const { lines } = groupByReason(failed);
  if (failed.length === 0) return <Text color={theme.dim}>nobody has failed</Text>;
  const at = selected === undefined ? 0 : lines.findIndex((l) => l.kind === 'learner' && l.index === selected);
  const rows = Math.max(1, lines.length <= height ? height : height - 1);
  const top = lines.length <= rows ? 0 : Math.max(0, Math.min(at - Math.floor(rows / 2), lines.length - rows));
  const visible = lines.slice(top, top + rows);
  const nameWidth = Math.min(24, Math.max(8, ...failed.map((f) => f.username.length)));
  return (
    <Box flexDirection="column" width={width}>
      {visible.map((line) =>
        line.kind === 'reason' ? (
          <Text key={`r-${line.reason}`} bold color={theme.error} wrap="truncate-end">
            {line.reason} ({line.count})
          </Text>
        ) : (
          <Box key={`l-${line.index}`}>
            <Box width={4} flexShrink={0}>
              <Text inverse={line.index === selected}>{line.index === selected ? ` ${marks.selected} ` : '   '}</Text>
            </Box>
            <Box width={nameWidth + 2} flexShrink={0}>
              <Text bold={line.index === selected} wrap="truncate-end">
                {line.learner.username}
              </Text>
            </Box>
            <Text color={theme.dim} wrap="truncate-end">
              {line.learner.message}
            </Text>
          </Box>
        ),
      )}
      {lines.length > rows ? (
        <Text color={theme.dim}>
          lines {top + 1}–{top + visible.length} of {lines.length}
        </Text>
      ) : null}
    </Box>
  );
}
