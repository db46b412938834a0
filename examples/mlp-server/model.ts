// A small multilayer perceptron (dense layers, ReLU, softmax) evaluated in plain TypeScript, plus the
// synthetic "spiral sensors" data it is trained on. Shared by train.ts (offline) and server.ts.

export interface Layer {
  /** weights[out][in] */
  w: number[][];
  b: number[];
}

export interface ModelFile {
  name: string;
  classes: string[];
  inputs: number;
  layers: Layer[];
  /** Per-feature standardisation applied before the first layer. */
  mean: number[];
  std: number[];
  trainedOn: { samples: number; seed: number; testAccuracy: number; epochs: number };
}

/** Deterministic PRNG (mulberry32) so training data and weights are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export const CLASSES = ['idle', 'normal', 'degraded', 'fault'];
export const INPUTS = 16;

/**
 * Synthetic sensor readings: a latent point on one of four interleaved spiral arms (the class), seen
 * through 16 noisy non-linear "sensors" (a fixed random projection followed by tanh). Not linearly
 * separable, so the hidden layers earn their keep.
 */
export function makeData(n: number, seed: number): { x: number[][]; y: number[] } {
  const proj = rng(12345); // the sensors are fixed across datasets
  const P = Array.from({ length: INPUTS }, () => [gaussian(proj), gaussian(proj), gaussian(proj) * 0.5]);
  const r = rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * CLASSES.length);
    const t = r() * 3 + 0.3; // position along the arm
    const angle = t * 2 + (c * 2 * Math.PI) / CLASSES.length + gaussian(r) * 0.12;
    const lx = t * Math.cos(angle);
    const ly = t * Math.sin(angle);
    x.push(P.map(([a, b, cc]) => Math.tanh(0.6 * (a * lx + b * ly) + cc) + gaussian(r) * 0.05));
    y.push(c);
  }
  return { x, y };
}

/** Forward pass: logits → softmax probabilities. `input` is raw (unstandardised) features. */
export function predict(m: ModelFile, input: ArrayLike<number>): number[] {
  let a: number[] = new Array(m.inputs);
  for (let i = 0; i < m.inputs; i++) a[i] = (input[i] - m.mean[i]) / m.std[i];
  for (let l = 0; l < m.layers.length; l++) {
    const { w, b } = m.layers[l];
    const out = new Array<number>(b.length);
    const last = l === m.layers.length - 1;
    for (let o = 0; o < b.length; o++) {
      const row = w[o];
      let s = b[o];
      for (let i = 0; i < row.length; i++) s += row[i] * a[i];
      out[o] = last || s > 0 ? s : 0;
    }
    a = out;
  }
  return softmax(a);
}

export function softmax(z: number[]): number[] {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  const e = z.map((v) => {
    const x = Math.exp(v - max);
    sum += x;
    return x;
  });
  return e.map((v) => v / sum);
}

/**
 * Test-time augmentation: average the prediction over `samples` noisy copies of the input (a real
 * technique for calibrated outputs). It is also the knob that sets the CPU cost of one request.
 */
export function predictTTA(m: ModelFile, input: number[], samples: number, noise: number, seed: number): number[] {
  const probs = predict(m, input);
  if (samples <= 1) return probs;
  const r = rng(seed);
  const acc = probs.slice();
  const x = new Array<number>(input.length);
  for (let s = 1; s < samples; s++) {
    for (let i = 0; i < input.length; i++) x[i] = input[i] + gaussian(r) * noise;
    const p = predict(m, x);
    for (let k = 0; k < acc.length; k++) acc[k] += p[k];
  }
  return acc.map((v) => v / samples);
}
