// node:test reporter for mutant runs: the first failing test decides the
// mutant (killed), so the process stops there instead of running the rest.
export default async function* bail(source: AsyncIterable<{ type: string; data: { file?: string; name?: string; todo?: unknown; skip?: unknown; details?: { type?: string } } }>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type === 'test:fail' && !event.data.todo && !event.data.skip && event.data.details?.type !== 'suite') {
      process.stderr.write(`\nMUTANT-KILLED-BY\t${event.data.file ?? '?'}\t${event.data.name ?? '?'}\n`);
      process.exit(1);
    }
  }
  yield '';
}
