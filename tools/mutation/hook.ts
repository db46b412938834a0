// Preloaded (--import) into each mutant's test process: serves the mutated
// source for one file, read from TIDE_MUTANT (JSON {file, start, end, text}),
// and stops the process at the first failing test.
import { registerHooks } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const spec = process.env.TIDE_MUTANT;
if (spec !== undefined && spec !== '') {
  const m = JSON.parse(spec) as { file: string; start: number; end: number; text: string };
  const target = pathToFileURL(m.file).href;
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (url !== target) return result;
      const original = readFileSync(m.file, 'utf8');
      const source = original.slice(0, m.start) + m.text + original.slice(m.end);
      return { ...result, source };
    },
  });
}
