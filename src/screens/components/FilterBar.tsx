import React from 'react';
import { Box, Text } from 'ink';
import { theme } from '../theme.js';

/**
 * The `/` filter line: the screen takes the typed keys (they may arrive before this is drawn) and
 * the list below follows at once; Enter opens the selected one, Esc clears the filter.
 */
export function FilterBar({
  editing,
  value,
  matches,
  total,
}: {
  editing: boolean;
  value: string;
  matches: number;
  total: number;
}): React.JSX.Element | null {
  if (!editing && value === '') return null;
  return (
    <Box>
      <Text color={theme.accent}>/ </Text>
      <Text>{value}</Text>
      {editing ? <Text inverse> </Text> : null}
      {editing && value === '' ? <Text color={theme.dim}>type to filter</Text> : null}
      <Text color={theme.dim}>
        {'  '}
        {matches} of {total}
        {editing ? ' · Enter opens the selected one, Esc clears the filter' : ' · / changes the filter, Esc clears it'}
      </Text>
    </Box>
  );
}
