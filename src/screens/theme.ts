// Semantic colour tokens: screens say what a thing is (ok, warn, error), never which colour.
export const theme = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  dim: 'gray',
  accent: 'cyan',
} as const;
