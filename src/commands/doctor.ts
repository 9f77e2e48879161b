import type { Command } from 'commander';
import { loadConfig } from '../app/config.js';
import { runDoctor } from '../app/doctor.js';
import { createOutput, reportError } from './output.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the database (and its schema), Redis and the edX / MITx Online base URLs')
    .option('--json', 'print JSON for scripts')
    .action(async (options: { json?: boolean }) => {
      const out = createOutput(Boolean(options.json));
      try {
        const checks = await runDoctor(loadConfig());
        if (out.json) out.result({ ok: checks.every((c) => c.ok), checks });
        for (const c of checks)
          out.line(`${c.ok ? 'OK  ' : 'FAIL'} ${c.name.padEnd(16)} ${c.detail}${c.ok || !c.fix ? '' : ` — ${c.fix}`}`);
        if (!checks.every((c) => c.ok)) process.exitCode = 1;
      } catch (error) {
        process.exitCode = reportError(error, out.json, process.env.GRADEOPS_DEBUG === '1');
      }
    });
}
