// Offline training of the example model: `npx node train.ts` (about a minute on one core).
// Writes weights.json next to this file (and a copy for the FastAPI example). Deterministic: same
// seed, same weights. Plain mini-batch SGD with momentum and softmax cross-entropy.
import { writeFileSync, existsSync } from 'node:fs';
import { CLASSES, INPUTS, makeData, predict, rng, gaussian } from './model.ts';
import type { ModelFile, Layer } from './model.ts';

const SEED = 7;
const HIDDEN = [64, 64];
const EPOCHS = Number(process.env.EPOCHS ?? 40);
const LR = 0.05;
const MOMENTUM = 0.9;
const BATCH = 32;

const train = makeData(12000, SEED);
const test = makeData(3000, SEED + 1);

const mean = Array.from({ length: INPUTS }, (_, i) => train.x.reduce((s, v) => s + v[i], 0) / train.x.length);
const std = Array.from({ length: INPUTS }, (_, i) =>
  Math.sqrt(train.x.reduce((s, v) => s + (v[i] - mean[i]) ** 2, 0) / train.x.length) || 1,
);
const norm = (v: number[]) => v.map((x, i) => (x - mean[i]) / std[i]);
const X = train.x.map(norm);

const r = rng(SEED);
const sizes = [INPUTS, ...HIDDEN, CLASSES.length];
const layers: Layer[] = [];
for (let l = 0; l < sizes.length - 1; l++) {
  const scale = Math.sqrt(2 / sizes[l]); // He initialisation
  layers.push({
    w: Array.from({ length: sizes[l + 1] }, () => Array.from({ length: sizes[l] }, () => gaussian(r) * scale)),
    b: new Array(sizes[l + 1]).fill(0),
  });
}
const vel = layers.map((L) => ({ w: L.w.map((row) => row.map(() => 0)), b: L.b.map(() => 0) }));

function forward(x: number[]): number[][] {
  const acts = [x];
  let a = x;
  layers.forEach((L, l) => {
    const last = l === layers.length - 1;
    a = L.b.map((b, o) => {
      let s = b;
      for (let i = 0; i < a.length; i++) s += L.w[o][i] * a[i];
      return last || s > 0 ? s : 0;
    });
    acts.push(a);
  });
  return acts;
}

const order = X.map((_, i) => i);
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0;
  const lr = LR * (1 - epoch / EPOCHS) + 0.002;
  for (let s = 0; s < order.length; s += BATCH) {
    const grads = layers.map((L) => ({ w: L.w.map((row) => row.map(() => 0)), b: L.b.map(() => 0) }));
    const batch = order.slice(s, s + BATCH);
    for (const idx of batch) {
      const acts = forward(X[idx]);
      const logits = acts[acts.length - 1];
      const m = Math.max(...logits);
      const e = logits.map((z) => Math.exp(z - m));
      const sum = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / sum);
      loss -= Math.log(Math.max(p[train.y[idx]], 1e-12));
      let delta = p.map((v, k) => v - (k === train.y[idx] ? 1 : 0));
      for (let l = layers.length - 1; l >= 0; l--) {
        const aIn = acts[l];
        const g = grads[l];
        for (let o = 0; o < delta.length; o++) {
          g.b[o] += delta[o];
          for (let i = 0; i < aIn.length; i++) g.w[o][i] += delta[o] * aIn[i];
        }
        if (l > 0) {
          const prev = new Array(aIn.length).fill(0);
          for (let i = 0; i < aIn.length; i++) {
            if (aIn[i] <= 0) continue; // ReLU derivative
            for (let o = 0; o < delta.length; o++) prev[i] += layers[l].w[o][i] * delta[o];
          }
          delta = prev;
        }
      }
    }
    layers.forEach((L, l) => {
      const v = vel[l];
      const g = grads[l];
      for (let o = 0; o < L.b.length; o++) {
        v.b[o] = MOMENTUM * v.b[o] - (lr * g.b[o]) / batch.length;
        L.b[o] += v.b[o];
        for (let i = 0; i < L.w[o].length; i++) {
          v.w[o][i] = MOMENTUM * v.w[o][i] - (lr * g.w[o][i]) / batch.length;
          L.w[o][i] += v.w[o][i];
        }
      }
    });
  }
  if (epoch % 5 === 4 || epoch === EPOCHS - 1) console.error(`epoch ${epoch + 1}/${EPOCHS} loss ${(loss / X.length).toFixed(4)}`);
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
const model: ModelFile = {
  name: 'spiral-sensors-mlp',
  classes: CLASSES,
  inputs: INPUTS,
  layers: layers.map((L) => ({ w: L.w.map((row) => row.map(round)), b: L.b.map(round) })),
  mean: mean.map(round),
  std: std.map(round),
  trainedOn: { samples: train.x.length, seed: SEED, testAccuracy: 0, epochs: EPOCHS },
};
let correct = 0;
test.x.forEach((x, i) => {
  const p = predict(model, x);
  if (p.indexOf(Math.max(...p)) === test.y[i]) correct++;
});
model.trainedOn.testAccuracy = correct / test.x.length;
console.error(`test accuracy ${(100 * model.trainedOn.testAccuracy).toFixed(2)}%`);
const json = JSON.stringify(model);
writeFileSync(new URL('./weights.json', import.meta.url), json);
const py = new URL('../fastapi-server/', import.meta.url);
if (existsSync(py)) writeFileSync(new URL('weights.json', py), json);
