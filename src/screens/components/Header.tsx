import React from 'react';
import { Box, Text } from 'ink';
import { theme } from '../theme.js';

export interface HeaderProps {
  /** "embedded demo" or the database's host/name. */
  target: string;
  operator: string;
  readOnly: boolean;
  /** Where the operator is: the screens of the stack, by their breadcrumb words. */
  crumbs: readonly string[];
  width: number;
}

/** Always says where you are: which database, who you are, whether writes are off, which screen. */
export function Header({ target, operator, readOnly, crumbs, width }: HeaderProps): React.JSX.Element {
  return (
    <Box flexDirection="column" width={width}>
      <Box>
        <Text wrap="truncate-end">
          <Text bold color={theme.accent}>
            gradeops
          </Text>
          <Text color={theme.dim}> │ </Text>
          <Text bold>{target}</Text>
          <Text color={theme.dim}> │ operator </Text>
          <Text>{operator}</Text>
          {readOnly ? (
            <>
              <Text color={theme.dim}> │ </Text>
              <Text bold color={theme.warn}>
                read-only
              </Text>
            </>
          ) : null}
        </Text>
      </Box>
      <Box>
        <Text wrap="truncate-start" color={theme.dim}>
          {crumbs.join(' › ')}
        </Text>
      </Box>
    </Box>
  );
}
