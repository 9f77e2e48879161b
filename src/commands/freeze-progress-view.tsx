import { render } from 'ink';
import type { FreezeEmitter } from '../domain/freeze/freeze-events.js';
import type { FreezeProgress } from '../domain/freeze/freeze-progress.js';
import { ProgressPanel } from '../screens/components/ProgressPanel.js';

/** Draws the progress bar of a foreground freeze on a terminal (stderr, so stdout stays clean). */
export function showFreezeProgress(courseKey: string, events: FreezeEmitter): { note(text: string): void; stop(): void } {
  let progress: FreezeProgress | null = null;
  let note: string | undefined;
  let stopped = false;
  const view = () => (progress ? <ProgressPanel courseKey={courseKey} progress={progress} note={note} /> : <></>);
  const instance = render(view(), { stdout: process.stderr, exitOnCtrlC: false, patchConsole: false });
  const redraw = () => instance.rerender(view());
  events.on('freeze:progress', (p) => {
    progress = p;
    redraw();
  });
  return {
    note(text) {
      note = text;
      redraw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      redraw();
      instance.unmount();
    },
  };
}
