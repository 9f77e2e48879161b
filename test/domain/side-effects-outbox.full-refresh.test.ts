// The same tests as side-effects-outbox.test.ts, every freeze with `--full-refresh` (spec 5b: both refresh modes keep the guarantees).
import '../helpers/full-refresh-mode.js';
import './side-effects-outbox.test.js';
