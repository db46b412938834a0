// A replica's log file (<stateDir>/logs/<pod>.log) that survives a full disk: writes are queued and
// written one at a time; when a write fails with ENOSPC/EDQUOT (or any error) the file goes "full":
// new lines are counted and dropped (the in-memory ring buffer still has them), a retry timer probes
// the disk, and the first write that works again notes how many lines were lost and resumes.
// The file-system calls are injectable so the state machine is testable without filling a disk.
import { close, open, write } from 'node:fs';

export interface LogFs {
  open(path: string, flags: string, cb: (err: NodeJS.ErrnoException | null, fd: number) => void): void;
  write(fd: number, data: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  close(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
}

export const nodeLogFs: LogFs = {
  open: (p, f, cb) => open(p, f, cb),
  write: (fd, d, cb) => write(fd, d, (err) => cb(err)),
  close: (fd, cb) => close(fd, cb),
};

export interface LogFileEvents {
  /** Writing stopped (the error's code, e.g. ENOSPC). Called once per outage. */
  onFull?(code: string, message: string): void;
  /** Writing works again; `dropped` lines were lost meanwhile. */
  onResume?(dropped: number): void;
}

export interface LogFileOptions extends LogFileEvents {
  fs?: LogFs;
  /** How often a full disk is probed again (default 5 s). */
  retryMs?: number;
  /** Most bytes queued while a write is in progress (default 1 MiB); beyond it lines are dropped. */
  maxQueuedBytes?: number;
}

export class LogFile {
  readonly path: string;
  state: 'opening' | 'ok' | 'full' | 'closed' = 'opening';
  dropped = 0;
  private fd: number | undefined;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private retry?: NodeJS.Timeout;
  private readonly fs: LogFs;
  private readonly opts: LogFileOptions;
  private closeWaiters: (() => void)[] = [];

  constructor(path: string, opts: LogFileOptions = {}) {
    this.path = path;
    this.opts = opts;
    this.fs = opts.fs ?? nodeLogFs;
    this.openFile();
  }

  private openFile(): void {
    this.fs.open(this.path, 'a', (err, fd) => {
      if (this.state === 'closed') { if (!err) this.fs.close(fd, () => {}); this.finishClose(); return; }
      if (err) { this.fail(err); return; }
      this.fd = fd;
      if (this.state === 'opening') this.state = 'ok';
      this.pump();
    });
  }

  /** Queue one line (without its newline). */
  write(line: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'full') { this.dropped++; return; }
    const text = line + '\n';
    if (this.queuedBytes + text.length > (this.opts.maxQueuedBytes ?? 1 << 20)) { this.dropped++; return; }
    this.queue.push(text);
    this.queuedBytes += text.length;
    this.pump();
  }

  private pump(): void {
    if (this.writing || this.fd === undefined || this.state !== 'ok' || !this.queue.length) {
      if (!this.writing && this.state === 'closed') this.finishClose();
      return;
    }
    const batch = this.queue.join('');
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    this.fs.write(this.fd, batch, (err) => {
      this.writing = false;
      if (err) {
        this.dropped += batch.split('\n').length - 1;
        this.fail(err);
        return;
      }
      this.pump();
    });
  }

  private fail(err: NodeJS.ErrnoException): void {
    if (this.state === 'closed') { this.finishClose(); return; }
    const wasFull = this.state === 'full';
    this.state = 'full';
    this.dropped += this.queue.reduce((n, t) => n + t.split('\n').length - 1, 0);
    this.queue = [];
    this.queuedBytes = 0;
    if (!wasFull) this.opts.onFull?.(err.code ?? 'EIO', `cannot write ${this.path}: ${err.message}; lines are dropped until it works again`);
    this.retry = setTimeout(() => this.probe(), this.opts.retryMs ?? 5000);
    this.retry.unref?.();
  }

  /** Try again: note the loss; success resumes normal writing. */
  private probe(): void {
    this.retry = undefined;
    if (this.state !== 'full') return;
    const go = (fd: number) => {
      this.fd = fd;
      const note = `--- tide: ${this.dropped} log line(s) were not written to this file (the disk was full or failing)\n`;
      this.writing = true;
      this.fs.write(fd, note, (err) => {
        this.writing = false;
        if (this.state === 'closed') { this.finishClose(); return; }
        if (err) { this.fail(err); return; }
        const dropped = this.dropped;
        this.dropped = 0;
        this.state = 'ok';
        this.opts.onResume?.(dropped);
        this.pump();
      });
    };
    if (this.fd !== undefined) go(this.fd);
    else this.fs.open(this.path, 'a', (err, fd) => { if (err) this.fail(err); else go(fd); });
  }

  /** Write what is queued (when possible), then close. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const p = new Promise<void>((r) => this.closeWaiters.push(r));
    const wasOk = this.state === 'ok';
    if (this.retry) clearTimeout(this.retry);
    this.state = 'closed';
    if (wasOk && this.fd !== undefined && this.queue.length && !this.writing) {
      // one last write of what is queued
      const batch = this.queue.join('');
      this.queue = [];
      this.writing = true;
      this.fs.write(this.fd, batch, () => { this.writing = false; this.finishClose(); });
    } else if (!this.writing) this.finishClose();
    return p;
  }

  private finishClose(): void {
    if (this.writing) return;
    const fd = this.fd;
    this.fd = undefined;
    const waiters = this.closeWaiters.splice(0);
    if (fd !== undefined) this.fs.close(fd, () => { for (const w of waiters) w(); });
    else for (const w of waiters) w();
  }
}
