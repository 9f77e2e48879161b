import { useState } from 'react';
import { Box, Text } from 'ink';
import { LineInput } from './LineInput.js';
import { marks, theme } from '../theme.js';
import { useScreenFocus } from '../console-context.js';
import { useScreenKeys } from '../use-screen-keys.js';

export interface TypedConfirmProps {
  /** What typing the value will do, said before the prompt. */
  prompt: string;
  /** What must be typed, shown so it can be copied exactly. */
  expected: string;
  /** Gets what was typed; the caller (or the domain) decides whether it matches. */
  onSubmit: (typed: string) => void;
  onCancel: () => void;
  /** Why the last attempt was refused ("… nothing was changed"). */
  refusal?: string | null;
  /** While the write runs, the field is closed. */
  busy?: boolean;
  isActive?: boolean;
}

/**
 * A typed confirmation (Shopify's DangerousConfirmationPrompt): the operator types the course key
 * or the username; Enter submits, Esc leaves without writing. A refused attempt clears the field.
 */
export function TypedConfirm({ prompt, expected, onSubmit, onCancel, refusal, busy = false, isActive = true }: TypedConfirmProps) {
  const [attempt, setAttempt] = useState(0);
  const focused = useScreenFocus();
  useScreenKeys({ back: onCancel }, { textEntry: true, isActive: isActive && !busy, labels: { back: 'leave without writing' } });
  return (
    <Box flexDirection="column">
      <Text wrap="wrap">{prompt}</Text>
      <Box>
        <Text bold color={theme.warn}>
          type {expected}:{' '}
        </Text>
        {busy ? (
          <Text color={theme.dim}>…</Text>
        ) : (
          <LineInput
            key={attempt}
            isDisabled={!isActive || !focused}
            onSubmit={(value) => {
              setAttempt((n) => n + 1);
              onSubmit(value.trim());
            }}
          />
        )}
      </Box>
      {refusal ? (
        <Text color={theme.error} wrap="wrap">
          {marks.fail} {refusal}
        </Text>
      ) : null}
      <Text color={theme.dim}>Enter confirms · Esc leaves without writing anything</Text>
    </Box>
  );
}
