// The same tests as freeze-job.test.ts, every freeze with `--full-refresh` (spec 5b: both refresh modes keep the guarantees).
import '../helpers/full-refresh-mode.js';
import './freeze-job.test.js';
