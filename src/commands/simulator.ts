import type { Command } from 'commander';
import { runCommand } from './run-command.js';

// A stand-alone simulated edX / MITx Online, fed from the configured database: lets a staging
// PostgreSQL + Redis setup (or a second terminal) exercise gradeops without the real services.

export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description("serve a simulated edX and MITx Online API from the database's learners until Ctrl-C (for demos and staging)")
    .option('--json', 'print the base URLs as JSON')
    .action((options: { json?: boolean }) =>
      runCommand(
        options,
        async (services, out) => {
          const { startEmbeddedSimulators } = await import('../simulator/index.js');
          const sims = await startEmbeddedSimulators(services.db, services.config.simulator);
          if (out.json) out.result(sims.urls);
          out.line(`EDXORG_CALLBACK_URL=${sims.urls.edxorg}`);
          out.line(`MITXONLINE_CALLBACK_URL=${sims.urls.mitxonline}`);
          out.note('serving until Ctrl-C');
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await sims.close();
        },
        { simulator: false },
      ),
    );
}
