import { Box, Text } from 'ink';
import { marks, theme } from '../theme.js';

export interface Choice {
  label: string;
  /** One more line saying what it does. */
  detail?: string;
}

/** A short list of choices; the screen moves `selected` with j/k and takes it with Enter. */
export function ChoiceList({ choices, selected }: { choices: readonly Choice[]; selected: number }) {
  return (
    <Box flexDirection="column">
      {choices.map((c, i) => (
        <Box key={c.label} flexDirection="column">
          <Text bold={i === selected} inverse={i === selected} wrap="truncate-end">
            {i === selected ? ` ${marks.selected} ` : '   '}
            {c.label}
          </Text>
          {c.detail ? (
            <Text color={theme.dim} wrap="truncate-end">
              {'     '}
              {c.detail}
            </Text>
          ) : null}
        </Box>
      ))}
    </Box>
  );
}
