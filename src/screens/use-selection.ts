import { useEffect, useState } from 'react';

/** A cursor over a list of `count` rows that stays in range as the list changes. */
export function useSelection(count: number, page = 10) {
  const [selected, setSelected] = useState(0);
  useEffect(() => {
    if (selected > Math.max(0, count - 1)) setSelected(Math.max(0, count - 1));
  }, [count, selected]);
  const clamp = (n: number) => Math.max(0, Math.min(count - 1, n));
  return {
    selected: Math.min(selected, Math.max(0, count - 1)),
    setSelected: (n: number) => setSelected(clamp(n)),
    down: () => setSelected((s) => clamp(s + 1)),
    up: () => setSelected((s) => clamp(s - 1)),
    pageDown: () => setSelected((s) => clamp(s + page)),
    pageUp: () => setSelected((s) => clamp(s - page)),
  };
}
