// Imports each test file named in TIDE_MUTANT_TESTS (newline-separated
// absolute paths) into this one process, so a mutant costs one Node start.
import { pathToFileURL } from 'node:url';
for (const f of (process.env.TIDE_MUTANT_TESTS ?? '').split('\n').filter(Boolean)) {
  await import(pathToFileURL(f).href);
}
