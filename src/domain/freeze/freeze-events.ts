import { EventEmitter } from 'node:events';
import type { FailureReason } from './failed-users.js';
import type { FreezeProgress } from './freeze-progress.js';

/** What a freeze job tells whoever watches it (a progress bar, line logs, the TUI, a test). */
export interface FreezeEvents {
  'freeze:started': [
    { courseKey: string; queued: number; eligible: number; alreadyFrozen: number; skippedFailed: number; concurrency: number },
  ];
  'freeze:user-frozen': [{ userId: number; username: string; grade: number; passed: boolean; alreadyFrozen: boolean }];
  'freeze:user-failed': [{ userId: number; username: string; reason: FailureReason; message: string }];
  'freeze:progress': [FreezeProgress];
  'freeze:warning': [{ message: string }];
  'freeze:finished': [{ courseKey: string; outcome: 'finished' | 'interrupted'; progress: FreezeProgress }];
}

export class FreezeEmitter extends EventEmitter<FreezeEvents> {}
