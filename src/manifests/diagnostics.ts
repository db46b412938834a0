// Problems found in manifests, each pinned to a file position, reported all at once.
// Rendered as `file:line:col: field.path: what is wrong (what is allowed)`.
import { UserError } from '../core/errors.ts';

export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;      // 1-based; 0 when the problem is the file itself (missing, too large)
  col: number;       // 1-based
  /** Dotted field path inside the document, e.g. "spec.metrics[0].resource.target.averageUtilization"; "" for the document. */
  path: string;
  /** What is wrong. */
  message: string;
  /** What is allowed, when it helps (rendered in parentheses). */
  allowed?: string;
  /** "Kind/name" of the document, when known (for context in long files). */
  object?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const what = d.path ? `${d.path}: ${d.message}` : d.message;
  const allowed = d.allowed ? ` (${d.allowed})` : '';
  const warn = d.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${warn}${what}${allowed}`;
}

/** Sort by file, then position, for stable output. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
}

/** One or more manifest problems. The message lists every error, one per line. */
export class ManifestError extends UserError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    const errors = sortDiagnostics(diagnostics.filter((d) => d.severity === 'error'));
    const n = errors.length;
    const head = n === 1 ? 'invalid manifest:' : `${n} problems in manifests:`;
    // one problem with the file itself (no such file): just say it, no "invalid manifest" heading
    super(n === 1 && errors[0].line === 0 ? formatDiagnostic(errors[0]) : `${head}\n${errors.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`);
    this.name = 'ManifestError';
    this.diagnostics = errors;
  }
}
