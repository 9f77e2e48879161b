import { useRef, useState } from 'react';
import { Text, useInput } from 'ink';
import { theme } from '../theme.js';

export interface LineInputProps {
  defaultValue?: string;
  placeholder?: string;
  /** Every change of the text, as it is typed. */
  onChange?: (value: string) => void;
  /** Enter: the text as typed, including keys read in the same burst as the Enter. */
  onSubmit?: (value: string) => void;
  isDisabled?: boolean;
}

// A one-line text field. @inkjs/ui's TextInput keeps its text in React state, so when the
// characters and the Enter after them are read in one burst (a paste, keys sent by a script, a
// busy event loop), Enter submits the text as it was before the burst: a typed confirmation of
// the right course key would then be refused. Here the text lives in a ref that every key of the
// burst updates at once, and React state only draws it.
export function LineInput({ defaultValue = '', placeholder = '', onChange, onSubmit, isDisabled = false }: LineInputProps) {
  const text = useRef(defaultValue);
  const [shown, setShown] = useState(defaultValue);
  const set = (next: string) => {
    if (next === text.current) return;
    text.current = next;
    setShown(next);
    onChange?.(next);
  };

  useInput(
    (input, key) => {
      if (key.return) {
        onSubmit?.(text.current);
        return;
      }
      if (key.backspace || key.delete) {
        set(text.current.slice(0, -1));
        return;
      }
      if (key.ctrl && input === 'u') {
        set('');
        return;
      }
      if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return;
      if (key.pageUp || key.pageDown || key.home || key.end || key.escape) return;
      // A pasted line may end in a newline: what precedes it is typed, the newline submits.
      const [typed, ...rest] = input.split(/\r\n|\r|\n/);
      // eslint-disable-next-line no-control-regex -- control characters are never part of a typed value
      const printable = typed.replace(/[\u0000-\u001f\u007f]/g, '');
      if (printable) set(text.current + printable);
      if (rest.length > 0) onSubmit?.(text.current);
    },
    { isActive: !isDisabled },
  );

  if (isDisabled) return <Text>{shown || <Text color={theme.dim}>{placeholder}</Text>}</Text>;
  return (
    <Text>
      {shown}
      <Text inverse> </Text>
      {shown === '' && placeholder ? <Text color={theme.dim}>{placeholder}</Text> : null}
    </Text>
  );
}
