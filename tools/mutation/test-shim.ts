// Stands in for node:test inside the mutation worker: test() only records the
// test; the worker runs the recorded tests in order and stops at the first failure.
type Fn = () => unknown;
interface Recorded { name: string; fn: Fn; skip: boolean; }
const g = globalThis as unknown as { __tideTests?: Recorded[] };

export function test(name: string, a?: Fn | { skip?: unknown; todo?: unknown }, b?: Fn): void {
  const fn = typeof a === 'function' ? a : b;
  const opts = typeof a === 'object' && a !== null ? a : {};
  if (fn) (g.__tideTests ??= []).push({ name, fn, skip: Boolean(opts.skip || opts.todo) });
}
export const it = test;
export default test;
