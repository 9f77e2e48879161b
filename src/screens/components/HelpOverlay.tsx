import { Box, Text } from 'ink';
import { theme } from '../theme.js';

/** Every key of the current screen with what it does; Esc or ? closes it. */
export function HelpOverlay({
  lines,
  width,
  title,
}: {
  lines: ReadonlyArray<{ keys: string; help: string }>;
  width: number;
  title: string;
}) {
  const keyWidth = Math.max(...lines.map((l) => l.keys.length), 4);
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1} width={Math.min(width, 100)}>
      <Text bold>Keys on {title}</Text>
      {lines.map((l) => (
        <Box key={l.keys}>
          <Box width={keyWidth + 2} flexShrink={0}>
            <Text bold color={theme.accent}>
              {l.keys}
            </Text>
          </Box>
          <Text wrap="truncate-end">{l.help}</Text>
        </Box>
      ))}
      <Text color={theme.dim}>Esc or ? closes this help</Text>
    </Box>
  );
}
