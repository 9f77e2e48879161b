import type { Command } from 'commander';
import { registerDb } from './db.js';

/** Every subcommand registers itself here; cli.ts knows nothing else about them. */
export const COMMANDS: Array<(program: Command) => void> = [
  registerDb,
];
