import { createRng } from '@stb/core';
import { toStream } from './data';
import { BOUNDARY, LstmNetwork, softmax } from './network';
import type { DecodedWeights } from './state';
import { loadTf } from './tf-loader';
import { createParams, forward, initialWeights, zeroState } from './train';

describe('LstmNetwork (plain JavaScript) against the TensorFlow.js training graph', () => {
  it.each([
    { layers: 1, embeddingSize: 5, units: 7 },
    { layers: 2, embeddingSize: 3, units: 4 },
  ])(
    'computes the same cross-entropy over a stream ($layers layers)',
    async (shape) => {
      const tf = await loadTf('wasm');
      const rng = createRng(3);
      const vocabularySize = 6;
      const weights = initialWeights(vocabularySize, shape, rng);
      // Random biases too, so that a wrong gate order cannot hide behind zeros.
      for (const w of weights)
        for (let i = 0; i < w.length; i++)
          w[i] = (w[i] as number) + rng.normal(0, 0.3);
      const sessions = Array.from({ length: 5 }, (_, s) =>
        Int32Array.from({ length: 3 + s }, () => 1 + rng.int(vocabularySize)),
      );
      const stream = toStream(sessions);
      const steps = stream.length - 1;
      const params = createParams(tf, weights, {
        vocabularySize,
        options: shape,
      });
      const state = zeroState(tf, 1, shape);
      const out = forward(tf, params, {
        batch: {
          rows: 1,
          steps,
          inputs: stream.subarray(0, steps),
          targets: stream.subarray(1),
        },
        state,
        outputs: vocabularySize + 1,
      });
      const tfNll = out.nllSum.dataSync()[0] as number;

      const l = shape.layers;
      const decoded: DecodedWeights = {
        embedding: weights[0] as Float32Array,
        layers: Array.from({ length: l }, (_, i) => ({
          kernel: weights[1 + 3 * i] as Float32Array,
          recurrent: weights[2 + 3 * i] as Float32Array,
          bias: weights[3 + 3 * i] as Float32Array,
        })),
        outputKernel: weights[1 + 3 * l] as Float32Array,
        outputBias: weights[2 + 3 * l] as Float32Array,
      };
      const net = new LstmNetwork(decoded, { vocabularySize, ...shape });
      const run = net.initialState();
      // Garbage in the initial state must not matter: START resets it.
      (run.h[0] as Float64Array).fill(0.5);
      const logits = new Float64Array(vocabularySize + 1);
      const probs = new Float64Array(vocabularySize + 1);
      let jsNll = 0;
      for (let t = 0; t < steps; t++) {
        net.step(run, stream[t] as number, logits);
        softmax(logits, probs);
        jsNll -= Math.log(probs[stream[t + 1] as number] as number);
      }
      expect(stream[0]).toBe(BOUNDARY);
      expect(Math.abs(jsNll - tfNll) / tfNll).toBeLessThan(1e-4);

      out.nllSum.dispose();
      for (const t of [...out.state.h, ...out.state.c, ...state.h, ...state.c])
        t.dispose();
      for (const v of params.all) v.dispose();
    },
  );
});

describe('softmax', () => {
  it('normalises with a temperature', () => {
    const out = new Float64Array(3);
    softmax(Float64Array.from([0, Math.log(2), 1000]), out);
    expect(out[2]).toBeCloseTo(1, 12);
    softmax(Float64Array.from([0, Math.log(2)]), out.subarray(0, 2));
    expect(out[1]).toBeCloseTo(2 / 3, 12);
    softmax(Float64Array.from([0, Math.log(2)]), out.subarray(0, 2), 0.5);
    expect(out[1]).toBeCloseTo(4 / 5, 12);
  });
});
