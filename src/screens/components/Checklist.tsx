import { Box, Text } from 'ink';
import { marks, theme } from '../theme.js';

export interface ChecklistItem {
  label: string;
  outcome: 'ok' | 'fail' | 'warn' | 'info';
  detail: string;
  fix?: string;
  /** Drawn out: the recommended next step, say. */
  highlight?: boolean;
}

const MARK = { ok: marks.ok, fail: marks.fail, warn: marks.warn, info: marks.info } as const;
const COLOR = { ok: theme.ok, fail: theme.error, warn: theme.warn, info: theme.dim } as const;

/** Checks in order, each with a mark and a sentence; a failed one says its fix on the next line. */
export function Checklist({ items, labelWidth = 24 }: { items: readonly ChecklistItem[]; labelWidth?: number }) {
  return (
    <Box flexDirection="column">
      {items.map((item) => (
        <Box key={item.label} flexDirection="column">
          <Box>
            <Box width={2} flexShrink={0}>
              <Text color={COLOR[item.outcome]} bold>
                {MARK[item.outcome]}
              </Text>
            </Box>
            <Box width={labelWidth} flexShrink={0}>
              <Text bold wrap="truncate-end">
                {item.label}
              </Text>
            </Box>
            <Text wrap="truncate-end" color={item.outcome === 'fail' ? theme.error : undefined}>
              {item.detail}
            </Text>
          </Box>
          {item.fix && item.outcome !== 'ok' ? (
            <Text wrap="truncate-end" color={theme.dim}>
              {' '.repeat(labelWidth + 2)}
              {marks.next} {item.fix}
            </Text>
          ) : null}
        </Box>
      ))}
    </Box>
  );
}
