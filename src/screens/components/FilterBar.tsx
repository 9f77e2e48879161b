import React from 'react';
import { Box, Text } from 'ink';
import { LineInput } from './LineInput.js';
import { theme } from '../theme.js';
import { useScreenFocus } from '../console-context.js';

/** The `/` filter line: typing filters the list below at once; Esc clears it. */
export function FilterBar({
  editing,
  value,
  onChange,
  onSubmit,
  matches,
  total,
}: {
  editing: boolean;
  value: string;
  onChange: (value: string) => void;
  /** Enter, with the text as typed (keys read in the same burst as the Enter included). */
  onSubmit?: (value: string) => void;
  matches: number;
  total: number;
}): React.JSX.Element | null {
  const focused = useScreenFocus();
  if (!editing && value === '') return null;
  return (
    <Box>
      <Text color={theme.accent}>/ </Text>
      {editing ? (
        <LineInput defaultValue={value} onChange={onChange} onSubmit={onSubmit} placeholder="type to filter" isDisabled={!focused} />
      ) : (
        <Text>{value}</Text>
      )}
      <Text color={theme.dim}>
        {'  '}
        {matches} of {total}
        {editing ? ' · Enter opens the selected one, Esc clears the filter' : ' · / changes the filter, Esc clears it'}
      </Text>
    </Box>
  );
}
