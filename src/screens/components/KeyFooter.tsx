import { Box, Text } from 'ink';
import type { FooterKey } from '../keymap.js';
import { theme } from '../theme.js';

const SEP = '  ';

const cells = (k: FooterKey) => k.keys.length + 1 + k.label.length;
const lineWidth = (keys: readonly FooterKey[]) => keys.reduce((sum, k, i) => sum + cells(k) + (i > 0 ? SEP.length : 0), 0);

/**
 * The footer's lines: one when the screen's keys and the global ones fit the width, else two
 * (the screen's keys, then the rest with the global ones last); what still does not fit is cut
 * with "…" (the help overlay lists everything).
 */
export function footerLines(keys: readonly FooterKey[], pinned: readonly FooterKey[], width: number): FooterKey[][] {
  const all = [...keys, ...pinned];
  if (lineWidth(all) <= width) return [all];
  const first: FooterKey[] = [];
  let i = 0;
  while (i < keys.length && lineWidth([...first, keys[i]]) <= width) first.push(keys[i++]);
  const second: FooterKey[] = [];
  const rest = keys.slice(i);
  for (const k of rest) if (lineWidth([...second, k, ...pinned]) <= width - 2) second.push(k);
  const cut = second.length < rest.length;
  return [first, [...second, ...(cut ? [{ keys: '…', label: '' }] : []), ...pinned]];
}

function Line({ keys, width }: { keys: readonly FooterKey[]; width: number }) {
  return (
    <Box width={width}>
      <Text wrap="truncate-end">
        {keys.map((k, i) => (
          <Text key={`${k.keys}-${i}`}>
            <Text bold color={k.label ? theme.accent : theme.dim}>
              {k.keys}
            </Text>
            {k.label ? <Text> {k.label}</Text> : null}
            {i < keys.length - 1 ? SEP : ''}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

/** The keys of the current screen, then the global ones (always shown), on one line or two. */
export function KeyFooter({ keys, pinned, width }: { keys: readonly FooterKey[]; pinned: readonly FooterKey[]; width: number }) {
  return (
    <Box flexDirection="column">
      {footerLines(keys, pinned, width).map((line, i) => (
        <Line key={i} keys={line} width={width} />
      ))}
    </Box>
  );
}
