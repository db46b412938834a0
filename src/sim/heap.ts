// Binary heaps for the simulator.
// - EventQueue: timers (controller ticks, scrapes, samples), ordered by time then insertion sequence,
//   so simultaneous events run in a deterministic order.
// - SlotHeap: (freeTime, replica) pairs in typed arrays: the per-request hot path, no allocation.

export interface SimEvent {
  t: number;
  seq: number;
  run: (now: number) => void;
}

export class EventQueue {
  private items: SimEvent[] = [];
  private seq = 0;

  get size(): number { return this.items.length; }

  peekTime(): number {
    return this.items.length ? this.items[0].t : Infinity;
  }

  push(t: number, run: (now: number) => void): void {
    const e: SimEvent = { t, seq: this.seq++, run };
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = e;
  }

  pop(): SimEvent | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r], a[l]) ? r : l;
        if (!less(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function less(x: SimEvent, y: SimEvent): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

/** Min-heap of (time, id) with ties broken by id, stored in typed arrays. */
export class SlotHeap {
  times: Float64Array;
  ids: Int32Array;
  size = 0;

  constructor(capacity = 64) {
    this.times = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  push(t: number, id: number): void {
    if (this.size === this.times.length) {
      const nt = new Float64Array(this.times.length * 2);
      nt.set(this.times);
      const ni = new Int32Array(this.ids.length * 2);
      ni.set(this.ids);
      this.times = nt;
      this.ids = ni;
    }
    const times = this.times;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < t || (pt === t && ids[p] <= id)) break;
      times[i] = pt;
      ids[i] = ids[p];
      i = p;
    }
    times[i] = t;
    ids[i] = id;
  }

  topTime(): number { return this.size ? this.times[0] : Infinity; }
  topId(): number { return this.size ? this.ids[0] : -1; }

  /** Remove the top; read topTime()/topId() before. */
  pop(): void {
    const n = --this.size;
    if (n <= 0) return;
    this.siftDownFromTop(this.times[n], this.ids[n], n);
  }

  /** Replace the top by (t, id) in one sift (cheaper than pop + push). */
  replaceTop(t: number, id: number): void {
    this.siftDownFromTop(t, id, this.size);
  }

  /** Place (t, id) at the root of the first n entries and sift it down to its place. */
  private siftDownFromTop(t: number, id: number, n: number): void {
    const times = this.times;
    const ids = this.ids;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (times[r] < times[l] || (times[r] === times[l] && ids[r] < ids[l]))) c = r;
      if (times[c] > t || (times[c] === t && ids[c] >= id)) break;
      times[i] = times[c];
      ids[i] = ids[c];
      i = c;
    }
    times[i] = t;
    ids[i] = id;
  }
}
