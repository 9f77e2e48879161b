#!/usr/bin/env node
// Runs the compiled build when it is current (fast start), else the TypeScript sources through tsx,
// so a stale dist/ after editing or pulling never runs old code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'src', 'cli.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const useBuild =
  existsSync(built) &&
  !process.env.GRADEOPS_FROM_SOURCE &&
  statSync(built).mtimeMs >= Math.max(newestSource(path.join(root, 'src')), newestSource(path.join(root, 'migrations')));
if (useBuild) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  // The repository's tsconfig, wherever gradeops is started from: tsx would otherwise look in the
  // working directory and compile the console's JSX the classic way (React is not defined).
  register({ tsconfig: path.join(root, 'tsconfig.json') });
  await import(pathToFileURL(path.join(root, 'src', 'cli.ts')).href);
}
