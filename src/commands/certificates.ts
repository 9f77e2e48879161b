import type { Command } from 'commander';
import { generateCertificates } from '../domain/exams/certificates.js';
import { contextOf } from './domain-context.js';
import { parseId } from './exam-args.js';
import { runCommand } from './run-command.js';

// `gradeops certificates generate`: course certificates by the historical rule and program
// certificates by the core and electives rules (spec 2.14, 5 item 2), idempotent and audited.

export function registerCertificates(program: Command): void {
  const certificates = program.command('certificates').description('MicroMasters course and program certificates');
  certificates
    .command('generate')
    .description('create the course and program certificates learners have earned and lack (one per learner)')
    .option('--program <id>', 'only this program (courses_program.id)', parseId)
    .option('--json', 'print JSON for scripts')
    .action((options: { program?: number; json?: boolean }) =>
      runCommand(options, async (services, out) => {
        const r = await generateCertificates(contextOf(services), { programId: options.program });
        if (out.json) return out.result(r);
        out.line(
          `course certificates: ${r.courseCertificates.created} created` +
            (r.courseCertificates.byCourse.length > 0
              ? ` (${r.courseCertificates.byCourse.map((c) => `${c.course}: ${c.created}`).join(', ')})`
              : ''),
        );
        out.line(
          `program certificates: ${r.programCertificates.created} created` +
            (r.programCertificates.byProgram.length > 0
              ? ` (${r.programCertificates.byProgram.map((p) => `${p.program}: ${p.created}`).join(', ')})`
              : ''),
        );
        if (r.programLetters.created + r.programLetters.reactivated > 0)
          out.line(`program letters: ${r.programLetters.created} created, ${r.programLetters.reactivated} reactivated`);
        for (const p of r.programsNotFrozen)
          out.line(
            `note: ${p.program} (id ${p.programId}) has a course without a frozen run, so its enrolled learners were not checked (spec E27)`,
          );
      }),
    );
}
