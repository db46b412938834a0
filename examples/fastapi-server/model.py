"""The spiral-sensors MLP (same weights.json as examples/mlp-server) evaluated in pure Python."""
import json
import math
import random
from pathlib import Path


class MLP:
    def __init__(self, path: Path):
        m = json.loads(Path(path).read_text())
        self.name = m["name"]
        self.classes = m["classes"]
        self.inputs = m["inputs"]
        self.layers = [(layer["w"], layer["b"]) for layer in m["layers"]]
        self.mean = m["mean"]
        self.std = m["std"]
        self.test_accuracy = m["trainedOn"]["testAccuracy"]

    def predict(self, x):
        a = [(v - mu) / sd for v, mu, sd in zip(x, self.mean, self.std)]
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            out = [bo + sum(wi * ai for wi, ai in zip(row, a)) for row, bo in zip(w, b)]
            a = out if i == last else [v if v > 0 else 0.0 for v in out]
        mx = max(a)
        e = [math.exp(v - mx) for v in a]
        s = sum(e)
        return [v / s for v in e]

    def predict_tta(self, x, samples: int, noise: float, seed: int):
        """Average over `samples` noisy copies of the input (test-time augmentation; sets the CPU cost)."""
        acc = self.predict(x)
        if samples <= 1:
            return acc
        rnd = random.Random(seed)
        for _ in range(samples - 1):
            p = self.predict([v + rnd.gauss(0.0, noise) for v in x])
            acc = [a + b for a, b in zip(acc, p)]
        return [a / samples for a in acc]
