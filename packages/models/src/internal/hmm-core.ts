import type { Rng } from '@stb/core';

/**
 * Discrete HMM numerics (Rabiner 1989, with per-step scaling). Parameters are flat
 * Float64Arrays: `a[i*n+j]` = P(state j | state i), `bT[o*n+j]` = P(symbol o | state j)
 * (symbol-major, so a step touches one contiguous row), `pi[i]`.
 */
export interface HmmParams {
  n: number;
  m: number;
  pi: Float64Array;
  a: Float64Array;
  bT: Float64Array;
}

/** Expected counts accumulated over sequences in one E-step. */
export interface HmmAccumulator {
  pi: Float64Array;
  a: Float64Array;
  bT: Float64Array;
  logLikelihood: number;
  symbols: number;
}

export function createAccumulator(n: number, m: number): HmmAccumulator {
  return {
    pi: new Float64Array(n),
    a: new Float64Array(n * n),
    bT: new Float64Array(m * n),
    logLikelihood: 0,
    symbols: 0,
  };
}

function normalise(v: Float64Array, from: number, len: number): void {
  let s = 0;
  for (let i = from; i < from + len; i++) s += v[i] as number;
  if (s <= 0) {
    for (let i = from; i < from + len; i++) v[i] = 1 / len;
    return;
  }
  for (let i = from; i < from + len; i++) v[i] = (v[i] as number) / s;
}

/** Random row-stochastic parameters; emissions start near `unigram` (when given) with noise. */
export function randomParams(
  shape: { n: number; m: number; unigram?: Float64Array | undefined },
  rng: Rng,
): HmmParams {
  const { n, m, unigram } = shape;
  const pi = new Float64Array(n);
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    pi[i] = 0.5 + rng.next();
    for (let j = 0; j < n; j++) a[i * n + j] = 0.5 + rng.next();
    normalise(a, i * n, n);
    for (let o = 0; o < m; o++)
      b[i * m + o] =
        (unigram ? (unigram[o] as number) + 1e-3 : 1) * (0.25 + rng.next());
    normalise(b, i * m, m);
  }
  normalise(pi, 0, n);
  return { n, m, pi, a, bT: transpose(b, n, m) };
}

/** `b[i*m+o]` (state-major) to `bT[o*n+i]`. */
export function transpose(
  b: Float64Array,
  rows: number,
  cols: number,
): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let o = 0; o < cols; o++)
      out[o * rows + i] = b[i * cols + o] as number;
  return out;
}

/**
 * Scaled forward pass. Writes normalised alphas (T×n) and scale sums; returns log P(obs).
 * A zero-probability sequence returns -Infinity.
 */
export function forward(
  p: HmmParams,
  obs: Int32Array,
  out: { alpha: Float64Array; scale: Float64Array },
): number {
  const { n, a, bT, pi } = p;
  const { alpha, scale } = out;
  const T = obs.length;
  let ll = 0;
  for (let t = 0; t < T; t++) {
    const o = obs[t] as number;
    const row = t * n;
    if (t === 0) {
      for (let j = 0; j < n; j++)
        alpha[j] = (pi[j] as number) * (bT[o * n + j] as number);
    } else {
      const prev = row - n;
      for (let j = 0; j < n; j++) alpha[row + j] = 0;
      for (let i = 0; i < n; i++) {
        const ai = alpha[prev + i] as number;
        if (ai === 0) continue;
        const off = i * n;
        for (let j = 0; j < n; j++)
          alpha[row + j] =
            (alpha[row + j] as number) + ai * (a[off + j] as number);
      }
      for (let j = 0; j < n; j++)
        alpha[row + j] = (alpha[row + j] as number) * (bT[o * n + j] as number);
    }
    let s = 0;
    for (let j = 0; j < n; j++) s += alpha[row + j] as number;
    scale[t] = s;
    if (!(s > 0)) return -Infinity;
    const inv = 1 / s;
    for (let j = 0; j < n; j++)
      alpha[row + j] = (alpha[row + j] as number) * inv;
    ll += Math.log(s);
  }
  return ll;
}

/** Work buffers reused across sequences. */
export class HmmWorkspace {
  alpha = new Float64Array(0);
  scale = new Float64Array(0);
  beta: Float64Array;
  betaNext: Float64Array;
  w: Float64Array;
  constructor(readonly n: number) {
    this.beta = new Float64Array(n);
    this.betaNext = new Float64Array(n);
    this.w = new Float64Array(n);
  }
  ensure(T: number): void {
    if (this.scale.length < T) {
      const size = Math.max(T, this.scale.length * 2, 64);
      this.alpha = new Float64Array(size * this.n);
      this.scale = new Float64Array(size);
    }
  }
}

/**
 * E-step for one sequence: scaled forward-backward, adding expected initial, transition and
 * emission counts to `acc`. Returns log P(obs).
 */
export function accumulate(
  p: HmmParams,
  obs: Int32Array,
  into: { acc: HmmAccumulator; ws: HmmWorkspace },
): number {
  const { acc, ws } = into;
  const { n, a, bT } = p;
  const T = obs.length;
  if (T === 0) return 0;
  ws.ensure(T);
  const { alpha, scale } = ws;
  const ll = forward(p, obs, ws);
  if (!Number.isFinite(ll)) return ll;
  let beta = ws.beta;
  let betaNext = ws.betaNext;
  const w = ws.w;
  for (let i = 0; i < n; i++) betaNext[i] = 1;
  // t = T-1: gamma = alpha
  {
    const o = obs[T - 1] as number;
    const row = (T - 1) * n;
    for (let i = 0; i < n; i++)
      acc.bT[o * n + i] =
        (acc.bT[o * n + i] as number) + (alpha[row + i] as number);
    if (T === 1)
      for (let i = 0; i < n; i++)
        acc.pi[i] = (acc.pi[i] as number) + (alpha[i] as number);
  }
  for (let t = T - 2; t >= 0; t--) {
    const oNext = obs[t + 1] as number;
    const inv = 1 / (scale[t + 1] as number);
    for (let j = 0; j < n; j++)
      w[j] = (bT[oNext * n + j] as number) * (betaNext[j] as number) * inv;
    const row = t * n;
    const o = obs[t] as number;
    for (let i = 0; i < n; i++) {
      const off = i * n;
      const ai = alpha[row + i] as number;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const x = (a[off + j] as number) * (w[j] as number);
        sum += x;
        acc.a[off + j] = (acc.a[off + j] as number) + ai * x;
      }
      beta[i] = sum;
      const gamma = ai * sum;
      acc.bT[o * n + i] = (acc.bT[o * n + i] as number) + gamma;
      if (t === 0) acc.pi[i] = (acc.pi[i] as number) + gamma;
    }
    const tmp = betaNext;
    betaNext = beta;
    beta = tmp;
  }
  acc.logLikelihood += ll;
  acc.symbols += T;
  return ll;
}

/** M-step: parameters from expected counts (rows that saw nothing keep their old values). */
export function maximise(p: HmmParams, acc: HmmAccumulator): HmmParams {
  const { n, m } = p;
  const pi = Float64Array.from(acc.pi);
  normalise(pi, 0, n);
  const a = Float64Array.from(acc.a);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] as number;
    if (s > 0)
      for (let j = 0; j < n; j++) a[i * n + j] = (a[i * n + j] as number) / s;
    else for (let j = 0; j < n; j++) a[i * n + j] = p.a[i * n + j] as number;
  }
  const bT = Float64Array.from(acc.bT);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let o = 0; o < m; o++) s += bT[o * n + i] as number;
    if (s > 0)
      for (let o = 0; o < m; o++) bT[o * n + i] = (bT[o * n + i] as number) / s;
    else for (let o = 0; o < m; o++) bT[o * n + i] = p.bT[o * n + i] as number;
  }
  return { n, m, pi, a, bT };
}

/** Mixes a small floor into every probability so no observed symbol becomes impossible. */
export function floorParams(p: HmmParams, eps: number): HmmParams {
  const { n, m } = p;
  const pi = p.pi.map((v) => v + eps);
  normalise(pi, 0, n);
  const a = p.a.map((v) => v + eps);
  for (let i = 0; i < n; i++) normalise(a, i * n, n);
  const b = transpose(p.bT, m, n).map((v) => v + eps);
  for (let i = 0; i < n; i++) normalise(b, i * m, m);
  return { n, m, pi, a, bT: transpose(b, n, m) };
}

/** Most likely state path (log-space Viterbi). */
export function viterbi(p: HmmParams, obs: Int32Array): Int32Array {
  const { n, a, bT, pi } = p;
  const T = obs.length;
  const path = new Int32Array(T);
  if (T === 0) return path;
  const back = new Int32Array(T * n);
  let delta = new Float64Array(n);
  let next = new Float64Array(n);
  const la = a.map(Math.log);
  const o0 = obs[0] as number;
  for (let j = 0; j < n; j++)
    delta[j] = Math.log(pi[j] as number) + Math.log(bT[o0 * n + j] as number);
  for (let t = 1; t < T; t++) {
    const o = obs[t] as number;
    for (let j = 0; j < n; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < n; i++) {
        const v = (delta[i] as number) + (la[i * n + j] as number);
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      next[j] = best + Math.log(bT[o * n + j] as number);
      back[t * n + j] = arg;
    }
    const tmp = delta;
    delta = next;
    next = tmp;
  }
  let best = -Infinity;
  let arg = 0;
  for (let j = 0; j < n; j++)
    if ((delta[j] as number) > best) {
      best = delta[j] as number;
      arg = j;
    }
  path[T - 1] = arg;
  for (let t = T - 1; t > 0; t--) {
    arg = back[t * n + arg] as number;
    path[t - 1] = arg;
  }
  return path;
}
