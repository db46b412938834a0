// Trace replay input: arrival offsets (ms from the first arrival) read from CSV or JSONL.
// CSV: a header row; the time column is the first whose name looks like a time (timestamp, time, ts,
// gmt_create, arrival...) or else the first column. JSONL: one object per line with `timestamp`,
// `time`, `ts` or `arrival`. Values: ISO-like date strings ("2023-11-16 18:15:46.6805900"), epoch
// seconds or milliseconds, or plain relative seconds. Offsets are sorted and made relative.
import { readFileSync } from 'node:fs';

const TIME_NAME = /^(timestamp|time|ts|gmt_create|arrival|arrival_time|start_time|created|created_at|t)$/i;
const JSON_KEYS = ['timestamp', 'time', 'ts', 'arrival', 'arrival_time', 't'];

/** Parse one time value to milliseconds (absolute or relative; only differences matter). */
export function parseTimeValue(v: unknown): number {
  if (typeof v === 'number') return numericToMs(v);
  const s = String(v).trim().replace(/^"|"$/g, '');
  if (s === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) return numericToMs(Number(s));
  // "YYYY-MM-DD HH:MM:SS(.fraction)" with any number of fraction digits, read as UTC
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) {
    const base = Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`);
    const frac = m[3] ? Number(`0.${m[3]}`) * 1000 : 0;
    return base + frac;
  }
  return Date.parse(s);
}

function numericToMs(n: number): number {
  // epoch milliseconds are > 1e11 (after 1973); anything else is seconds (epoch or relative)
  return Math.abs(n) > 1e11 ? n : n * 1000;
}

function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      if (q && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else q = !q;
    } else if (c === ',' && !q) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseTrace(text: string, format: 'csv' | 'jsonl'): number[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const times: number[] = [];
  if (format === 'jsonl') {
    lines.forEach((line, i) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`line ${i + 1}: not JSON`);
      }
      const key = JSON_KEYS.find((k) => k in o);
      if (!key) throw new Error(`line ${i + 1}: no time field (one of ${JSON_KEYS.join(', ')})`);
      const t = parseTimeValue(o[key]);
      if (!Number.isFinite(t)) throw new Error(`line ${i + 1}: cannot read time ${JSON.stringify(o[key])}`);
      times.push(t);
    });
  } else {
    if (lines.length === 0) return [];
    const header = splitCsvLine(lines[0]).map((h) => h.trim());
    let col = header.findIndex((h) => TIME_NAME.test(h));
    let start = 1;
    if (col < 0) {
      // no recognisable header: if the first cell parses as time, there is no header at all
      col = 0;
      if (Number.isFinite(parseTimeValue(header[0]))) start = 0;
    }
    for (let i = start; i < lines.length; i++) {
      const cell = splitCsvLine(lines[i])[col];
      const t = parseTimeValue(cell);
      if (!Number.isFinite(t)) throw new Error(`line ${i + 1}: cannot read time ${JSON.stringify(cell)} in column ${header[col] ?? col + 1}`);
      times.push(t);
    }
  }
  times.sort((a, b) => a - b);
  const t0 = times[0] ?? 0;
  return times.map((t) => t - t0);
}

export function readTrace(file: string): number[] {
  const text = readFileSync(file, 'utf8');
  const format = /\.jsonl?$|\.ndjson$/i.test(file) ? 'jsonl' : 'csv';
  try {
    return parseTrace(text, format);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
