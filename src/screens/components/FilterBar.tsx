import React from 'react';
import { Box, Text } from 'ink';
import { TextInput } from '@inkjs/ui';
import { theme } from '../theme.js';
import { useScreenFocus } from '../console-context.js';

/** The `/` filter line: typing filters the list below at once; Enter keeps it, Esc clears it. */
export function FilterBar({
  editing,
  value,
  onChange,
  matches,
  total,
}: {
  editing: boolean;
  value: string;
  onChange: (value: string) => void;
  matches: number;
  total: number;
}): React.JSX.Element | null {
  const focused = useScreenFocus();
  if (!editing && value === '') return null;
  return (
    <Box>
      <Text color={theme.accent}>/ </Text>
      {editing ? (
        <TextInput defaultValue={value} onChange={onChange} placeholder="type to filter" isDisabled={!focused} />
      ) : (
        <Text>{value}</Text>
      )}
      <Text color={theme.dim}>
        {'  '}
        {matches} of {total}
        {editing ? ' · Enter keeps the filter, Esc clears it' : ' · / changes the filter, Esc clears it'}
      </Text>
    </Box>
  );
}
