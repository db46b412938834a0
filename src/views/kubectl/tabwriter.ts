// Column alignment as Go's text/tabwriter does it (the writer kubectl prints through): a cell is
// text terminated by a tab; the text after a line's last tab is not part of any column. A column
// is aligned over a *block* of consecutive lines that all have a cell in it, so a line with fewer
// cells ends the block (that is why `describe` sections align independently). Pure, no I/O.

export interface TabwriterOptions {
  /** Minimal cell width including padding (kubectl get: 6, describe: 0). */
  minwidth: number;
  /** Spaces added to the widest cell of a column (kubectl get: 3, describe: 2). */
  padding: number;
  /** Forced minimal width per column index (RememberWidths across -w listings). */
  widths?: number[];
}

/** Format tab-separated lines (no trailing newline needed). A line consisting of "\f" flushes: alignment restarts after it. */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  const out: string[] = [];
  for (const section of text.split('\n\f\n')) out.push(formatSection(section.split('\n'), opts));
  return out.join('\n');
}

function formatSection(lines: string[], opts: TabwriterOptions): string {
  const cells = lines.map((l) => l.split('\t'));
  const widthOf = new Array<number[]>(cells.length);
  for (let i = 0; i < cells.length; i++) widthOf[i] = [];
  const walk = (line0: number, line1: number, column: number) => {
    let i = line0;
    while (i < line1) {
      if (column >= cells[i].length - 1) { i++; continue; }
      const start = i;
      let width = Math.max(opts.minwidth, opts.widths?.[column] ?? 0);
      for (; i < line1 && column < cells[i].length - 1; i++) width = Math.max(width, cells[i][column].length + opts.padding);
      for (let j = start; j < i; j++) widthOf[j][column] = width;
      walk(start, i, column + 1);
    }
  };
  walk(0, cells.length, 0);
  return cells.map((c, i) => c.map((cell, j) => (j < c.length - 1 ? cell.padEnd(widthOf[i][j]) : cell)).join('')).join('\n');
}

/** The column widths a table would get (for -w: later rows keep the first listing's widths). */
export function columnWidths(rows: string[][], opts: TabwriterOptions): number[] {
  const n = Math.max(0, ...rows.map((r) => r.length));
  const w: number[] = [];
  for (let j = 0; j < n - 1; j++) w[j] = Math.max(opts.minwidth, opts.widths?.[j] ?? 0, ...rows.map((r) => (r[j] ?? '').length + opts.padding));
  return w;
}

/** kubectl get's writer: minwidth 6, padding 3. */
export const GET_TABLE: TabwriterOptions = { minwidth: 6, padding: 3 };
/** kubectl describe's writer: minwidth 0, padding 2. */
export const DESCRIBE_TABLE: TabwriterOptions = { minwidth: 0, padding: 2 };

/** A `kubectl get` table: header + rows, every column aligned (trailing spaces trimmed as a terminal shows them). */
export function printTable(header: string[], rows: string[][], widths?: number[]): string {
  return tabwrite([header, ...rows].map((r) => r.join('\t')).join('\n'), { ...GET_TABLE, widths });
}

/** Rows printed under an earlier header (kubectl get -w): same widths as `widths`, no header. */
export function printRows(rows: string[][], widths: number[]): string {
  return tabwrite(rows.map((r) => r.join('\t')).join('\n'), { ...GET_TABLE, widths });
}
