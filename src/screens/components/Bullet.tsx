import { Box, Text } from 'ink';
import type { ReactNode } from 'react';

/** A marked line whose text wraps under itself, not under the mark. */
export function Bullet({ mark, color, children, indent = 2 }: { mark: string; color?: string; children: ReactNode; indent?: number }) {
  return (
    <Box>
      <Box width={indent + 2} flexShrink={0}>
        <Text color={color}>
          {' '.repeat(indent)}
          {mark}
        </Text>
      </Box>
      <Box flexGrow={1} flexShrink={1}>
        <Text wrap="wrap">{children}</Text>
      </Box>
    </Box>
  );
}
