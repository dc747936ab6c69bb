/**
 * hdr-histogram-js's JavaScript histograms and their V2 compressed encoding, loaded from the
 * package's own modules instead of its index. The index also loads the WebAssembly build (a
 * base64 module and `@assemblyscript/loader`), which stb never uses: importing the index cost
 * 55–59 ms of CPU in a fresh process after `zod`, these modules 26–30 (5 runs each, 2026-12-07),
 * paid by every `stb bench` and every process that imports `@stb/bench`. The modules are the
 * package's `dist` files, not a documented entry point: `hdr.test.ts` checks that what they build,
 * encode and decode is what the index gives, so a release that moves them fails the tests.
 */
import type { JsHistogram } from 'hdr-histogram-js/dist/JsHistogram.js';
// Also sets `JsHistogram.prototype.encodeIntoCompressedBase64`, as the index does.
import {
  decompress,
  doDecode,
} from 'hdr-histogram-js/dist/JsHistogram.encoding.js';
import { constructorFromBucketSize } from 'hdr-histogram-js/dist/JsHistogramFactory.js';

/** A JavaScript histogram (what the index's `build` gives without WebAssembly). */
export type Histogram = JsHistogram;

/**
 * The histogram every latency figure is kept in: 32-bit counts, nanoseconds from 1 ns to 60 s (so
 * sub-10 µs statements, SQLite's, keep 3 significant digits), resized past 60 s; hdr-histogram-js's
 * `build` with these settings.
 */
export function newHistogram(): Histogram {
  const Ctor = constructorFromBucketSize(32);
  const h = new Ctor(1, 60_000_000_000, 3);
  h.autoResize = true;
  return h;
}

/** A histogram as V2 compressed base64 (hdr-histogram-js's `encodeIntoCompressedBase64`). */
export const encodeHistogram = (h: Histogram): string =>
  h.encodeIntoCompressedBase64();

/** What hdr-histogram-js's base64 decoder (`base64-js`) takes, URL-safe letters too. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * A V2 compressed base64 histogram read back (hdr-histogram-js's `decodeFromCompressedBase64`
 * with its defaults). Throws on text that is not base64 (the index's decoder throws only on a length
 * that is not a multiple of 4, and reads other letters as bits) or not a histogram.
 */
export function decodeHistogram(encoded: string): Histogram {
  const text = encoded.trim();
  if (text.length % 4 !== 0 || !BASE64.test(text))
    throw new Error('Invalid base64 string');
  return doDecode(decompress(new Uint8Array(Buffer.from(text, 'base64'))), 32);
}
