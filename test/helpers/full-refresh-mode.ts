// Imported first by the `*.full-refresh.test.ts` twins: their freezes use `--full-refresh` (see freeze-mode.ts).
process.env.GRADEOPS_TEST_FREEZE_REFRESH = 'full';
