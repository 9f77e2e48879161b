import type { Command } from 'commander';
import { registerCertificates } from './certificates.js';
import { registerCombinedGrades } from './combined-grades.js';
import { registerCompleteFreeze } from './complete-freeze.js';
import { registerDb } from './db.js';
import { registerDiagnose } from './diagnose.js';
import { registerDoctor } from './doctor.js';
import { registerExams } from './exams.js';
import { registerFreeze } from './freeze.js';
import { registerFreezeStatus } from './freeze-status.js';
import { registerFreezeUser } from './freeze-user.js';
import { registerRefresh } from './refresh.js';
import { registerRepl } from './repl.js';
import { registerResync } from './resync.js';
import { registerRevertFreeze } from './revert-freeze.js';
import { registerRuns } from './runs.js';
import { registerSideEffects } from './side-effects.js';
import { registerSimulator } from './simulator.js';
import { registerTui } from './tui.js';

/** Every subcommand registers itself here; cli.ts knows nothing else about them. */
export const COMMANDS: Array<(program: Command) => void> = [
  registerRuns,
  registerFreeze,
  registerFreezeStatus,
  registerCompleteFreeze,
  registerFreezeUser,
  registerResync,
  registerRefresh,
  registerDiagnose,
  registerRepl,
  registerRevertFreeze,
  registerSideEffects,
  registerExams,
  registerCombinedGrades,
  registerCertificates,
  registerDoctor,
  registerDb,
  registerSimulator,
  registerTui,
];
