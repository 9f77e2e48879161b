import React from 'react';
import { Text } from 'ink';
import { isOpsError } from '../../domain/errors.js';
import { marks, theme } from '../theme.js';

/** The words of an error for a screen: the problem, then the fix; a bug says how to report it. */
export function errorText(error: unknown): { problem: string; fix: string } {
  if (isOpsError(error)) return { problem: error.message, fix: error.hint };
  const e = error as Error | undefined;
  return {
    problem: `unexpected ${e?.name ?? 'error'}: ${e?.message ?? String(error)}`,
    fix: 'this is a bug in gradeops: run again with GRADEOPS_DEBUG=1 for the details and report it',
  };
}

/** An error in the screen, in plain words with the fix. Never a stack trace unless GRADEOPS_DEBUG=1. */
export function ErrorLine({ error, prefix }: { error: unknown; prefix?: string }): React.JSX.Element {
  const { problem, fix } = errorText(error);
  const stack = process.env.GRADEOPS_DEBUG === '1' && error instanceof Error && !isOpsError(error) ? error.stack : undefined;
  return (
    <Text wrap="wrap">
      <Text color={theme.error} bold>
        {marks.fail} {prefix ? `${prefix}: ` : ''}
        {problem}
      </Text>
      {fix ? <Text> — {fix}</Text> : null}
      {stack ? <Text color={theme.dim}>{`\n${stack}`}</Text> : null}
    </Text>
  );
}
