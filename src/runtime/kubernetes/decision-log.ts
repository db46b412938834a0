// The JSONL file of decision records (`tide controller --decisions`, replayed by `tide decide --verify`):
// one line per record, appended through a file descriptor opened once (appendFileSync opened and
// closed the file for every record, once per HPA and sync). A failed write closes it; the next
// record opens it again (the folder is created then).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class DecisionLog {
  readonly file: string;
  private fd: number | undefined;
  private readonly warn: (msg: string) => void;

  constructor(file: string, warn: (msg: string) => void) {
    this.file = file;
    this.warn = warn;
  }

  append(record: unknown): void {
    try {
      if (this.fd === undefined) {
        mkdirSync(dirname(this.file), { recursive: true });
        this.fd = openSync(this.file, 'a');
      }
      writeSync(this.fd, JSON.stringify(record) + '\n');
    } catch (e) {
      this.warn(`cannot append to ${this.file}: ${(e as Error).message}`);
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try { closeSync(this.fd); } catch { /* already closed */ }
    this.fd = undefined;
  }
}
