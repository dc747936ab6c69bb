import * as hdr from 'hdr-histogram-js';
import { createRng } from '@stb/core';
import type * as HdrModule from './hdr';
import {
  decodeHistogram,
  encodeHistogram,
  newHistogram,
  type Histogram,
} from './hdr';

/** hdr-histogram-js's index, with the settings {@link newHistogram} stands for. */
const indexHistogram = (): hdr.Histogram =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

/** Values spread from 1 ns to past the 60 s the layout tracks, the same every time. */
function record(...hs: { recordValue(v: number): void }[]): void {
  const rng = createRng(11);
  for (let i = 0; i < 5_000; i++) {
    const v = Math.max(1, Math.round(Math.exp(rng.next() * Math.log(120e9))));
    for (const h of hs) h.recordValue(v);
  }
}

/** The same values in both. */
function filled(): [ours: Histogram, index: hdr.Histogram] {
  const ours = newHistogram();
  const index = indexHistogram();
  record(ours, index);
  return [ours, index];
}

describe('hdr (hdr-histogram-js through its own modules, not its index)', () => {
  it('builds the histogram the index builds, and encodes it to the same text', () => {
    const [ours, index] = filled();
    expect(ours.constructor).toBe(index.constructor);
    expect(ours.autoResize).toBe(true);
    expect(ours.maxValue).toBeGreaterThan(60e9); // resized past the tracked range
    expect(encodeHistogram(ours)).toBe(hdr.encodeIntoCompressedBase64(index));
    expect(ours.getValueAtPercentile(99)).toBe(index.getValueAtPercentile(99));
  });

  it("decodes what the index encodes, into the index's decoding", () => {
    const [, index] = filled();
    const text = hdr.encodeIntoCompressedBase64(index);
    const ours = decodeHistogram(` ${text}\n`);
    const theirs = hdr.decodeFromCompressedBase64(text);
    expect(ours.constructor).toBe(theirs.constructor);
    expect(ours.totalCount).toBe(5_000);
    expect(encodeHistogram(ours)).toBe(hdr.encodeIntoCompressedBase64(theirs));
    for (const p of [0, 50, 90, 99, 99.9, 100])
      expect(ours.getValueAtPercentile(p)).toBe(theirs.getValueAtPercentile(p));
  });

  it("encodes and decodes with the library's index never loaded (this test file loads it)", () => {
    const [, index] = filled();
    const text = hdr.encodeIntoCompressedBase64(index);
    jest.isolateModules(() => {
      // a registry of its own: hdr-histogram-js's modules run again, and its index may not load
      jest.doMock('hdr-histogram-js', () => {
        throw new Error("hdr-histogram-js's index was loaded");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const own = require('./hdr') as typeof HdrModule;
      const h = own.newHistogram();
      record(h);
      expect(own.encodeHistogram(h)).toBe(text);
      const back = own.decodeHistogram(text);
      expect(back.totalCount).toBe(5_000);
      expect(back.getValueAtPercentile(99)).toBe(
        index.getValueAtPercentile(99),
      );
    });
  });

  it('throws on text that is not base64 or not a histogram', () => {
    expect(() => decodeHistogram('abc')).toThrow('Invalid base64 string');
    expect(() => decodeHistogram('ab!d')).toThrow('Invalid base64 string');
    expect(() => decodeHistogram('a=bc')).toThrow('Invalid base64 string');
    expect(() =>
      decodeHistogram(Buffer.from('not a histogram').toString('base64')),
    ).toThrow();
  });
});
