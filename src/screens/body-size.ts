import { createContext, useContext } from 'react';

/** The cells a screen may draw in (the terminal minus header, status line and footer). */
export interface BodySize {
  width: number;
  height: number;
}

export const BodySizeContext = createContext<BodySize>({ width: 80, height: 19 });

export function useBodySize(): BodySize {
  return useContext(BodySizeContext);
}
