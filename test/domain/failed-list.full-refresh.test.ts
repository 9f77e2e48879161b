// The same tests as failed-list.test.ts, every freeze with `--full-refresh` (spec 5b: both refresh modes keep the guarantees).
import '../helpers/full-refresh-mode.js';
import './failed-list.test.js';
