import { Box, Text } from 'ink';
import type { FooterKey } from '../keymap.js';
import { theme } from '../theme.js';

const SEP = '  ';

function cells(k: FooterKey): number {
  return k.keys.length + 1 + k.label.length;
}

function Key({ k }: { k: FooterKey }) {
  return (
    <Text>
      <Text bold color={theme.accent}>
        {k.keys}
      </Text>
      <Text> {k.label}</Text>
    </Text>
  );
}

/** The keys of the current screen on one line, as many as fit, then the global ones (always shown). */
export function KeyFooter({ keys, pinned, width }: { keys: readonly FooterKey[]; pinned: readonly FooterKey[]; width: number }) {
  const pinnedWidth = pinned.reduce((sum, k) => sum + cells(k) + SEP.length, 0);
  const shown: FooterKey[] = [];
  let used = 0;
  for (const k of keys) {
    if (used + cells(k) + SEP.length > width - pinnedWidth - 2) break;
    shown.push(k);
    used += cells(k) + SEP.length;
  }
  const cut = shown.length < keys.length;
  const all = [...shown, ...pinned];
  return (
    <Box width={width}>
      <Text wrap="truncate-end">
        {all.map((k, i) => (
          <Text key={`${k.keys}-${i}`}>
            <Key k={k} />
            {i === shown.length - 1 && cut ? <Text color={theme.dim}> …</Text> : null}
            {i < all.length - 1 ? SEP : ''}
          </Text>
        ))}
      </Text>
    </Box>
  );
}
