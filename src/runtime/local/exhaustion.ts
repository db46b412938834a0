// Resource exhaustion (file descriptors, processes, memory) is a condition of Tide's own process, not
// of a replica: it must never be read as "the replica is unhealthy", and it must never kill the
// daemon. Callers classify errors with exhaustionCode() and report them to one place, which turns
// them into a (rate-limited) Warning event and the tide_resource_exhaustion_total metric.

/** errno codes that mean "Tide ran out of something", not "the other side failed". */
const CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EWOULDBLOCK', 'ENOMEM', 'ENOBUFS', 'ENOSPC', 'EDQUOT']);

const WHAT: Record<string, string> = {
  EMFILE: 'too many open files in the Tide process (ulimit -n)',
  ENFILE: 'too many open files on the machine',
  EAGAIN: 'resource temporarily unavailable (process or thread limit)',
  EWOULDBLOCK: 'resource temporarily unavailable',
  ENOMEM: 'out of memory',
  ENOBUFS: 'no buffer space available',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

export function exhaustionCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODES.has(code) ? code : undefined;
}

export function describeExhaustion(code: string): string { return `${code}: ${WHAT[code] ?? code}`; }

export type ExhaustionOp = 'accept' | 'probe' | 'scrape' | 'spawn' | 'log' | 'state';

export type ExhaustionReporter = (op: ExhaustionOp, code: string, object: string, message: string) => void;
