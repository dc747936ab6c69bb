import fc from 'fast-check';

import {
  clampDerivedStart,
  daysFromCivil,
  MAX_START_CLAMP_US,
  parseTimestampLiteral,
  parseWallClockUs,
  parseZoneOffsetMinutes,
} from './time';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

describe('daysFromCivil', () => {
  it('agrees with Date.UTC, rolling over out-of-range days', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 9999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        (y, m, d) =>
          daysFromCivil(y, m, d) * 86_400_000 === Date.UTC(y, m - 1, d),
      ),
    );
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2024, 2, 30)).toBe(daysFromCivil(2024, 3, 1));
  });
});

describe('parseZoneOffsetMinutes', () => {
  it('reads Z, ±HH, ±HHMM and ±HH:MM only', () => {
    expect(parseZoneOffsetMinutes('Z')).toBe(0);
    expect(parseZoneOffsetMinutes('+00')).toBe(0);
    expect(parseZoneOffsetMinutes('+02')).toBe(120);
    expect(parseZoneOffsetMinutes('-0530')).toBe(-330);
    expect(parseZoneOffsetMinutes('+05:45')).toBe(345);
    for (const bad of [
      '',
      'UTC',
      '+5',
      '+053',
      '+05:3',
      '+0:530',
      '05:00',
      '+05-30',
      'z',
    ])
      expect(parseZoneOffsetMinutes(bad)).toBeUndefined();
  });
});

describe('parseWallClockUs', () => {
  it('parses at an offset and reports where it stopped', () => {
    const scan = { end: 0 };
    const text = 'at 2024-05-01 12:00:00.5 UTC';
    expect(parseWallClockUs(text, 3, scan)).toBe(
      Date.UTC(2024, 4, 1, 12) * 1000 + 500_000,
    );
    expect(scan.end).toBe(24);
    // the cached date of the previous call is reused only for the same date text
    expect(parseWallClockUs('2024-05-02T00:00:01', 0, scan)).toBe(
      Date.UTC(2024, 4, 2, 0, 0, 1) * 1000,
    );
    expect(scan.end).toBe(19);
  });

  it('rejects malformed fields', () => {
    const scan = { end: 0 };
    for (const bad of [
      '2024-13-01 00:00:00',
      '2024-00-10 00:00:00',
      '2024-01-32 00:00:00',
      '2024-01-01 25:00:00',
      '2024-01-01 10:60:00',
      '2024-01-01X10:00:00',
      '20a4-01-01 10:00:00',
      '2024-01-01 10:00',
    ])
      expect(parseWallClockUs(bad, 0, scan)).toBeNaN();
  });
});

describe('parseTimestampLiteral', () => {
  it('matches Date for every shape it accepts (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          date: fc.date({
            min: new Date('1000-01-01T00:00:00Z'),
            max: new Date('9999-12-31T00:00:00Z'),
            noInvalidDate: true,
          }),
          micros: fc.integer({ min: 0, max: 999 }),
          sep: fc.constantFrom(' ' as const, 'T' as const),
          digits: fc.integer({ min: 0, max: 6 }),
          zone: fc.constantFrom(
            '',
            'Z',
            '+00',
            '-08',
            '+0530',
            '+05:30',
            '-03:30',
          ),
        }),
        ({ date, micros, sep, digits, zone }) => {
          const iso = date.toISOString();
          const fracUs = date.getUTCMilliseconds() * 1000 + micros;
          const frac = pad(fracUs, 6).slice(0, digits);
          const text = `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}${digits > 0 ? `.${frac}` : ''}${zone}`;
          const t = parseTimestampLiteral(text);
          const offset =
            zone === '' ? 0 : (parseZoneOffsetMinutes(zone) as number);
          const expected =
            (Math.floor(date.getTime() / 1000) * 1000 - offset * 60_000) *
              1000 +
            (digits > 0 ? Number(frac.padEnd(6, '0')) : 0);
          return (
            t !== undefined &&
            t.epochUs === expected &&
            t.separator === sep &&
            t.fractionDigits === digits &&
            t.zone === zone &&
            t.offsetMinutes === offset
          );
        },
      ),
    );
  });

  it('rounds fraction digits beyond the sixth and refuses other text', () => {
    expect(parseTimestampLiteral('1970-01-01 00:00:00.123456789')).toEqual({
      epochUs: 123457,
      separator: ' ',
      fractionDigits: 9,
      zone: '',
      offsetMinutes: 0,
    });
    for (const bad of [
      '1970-01-01 00:00:00.',
      '1970-01-01 00:00:00.1234567890',
      '1970-01-01 00:00:00 UTC',
      '1970-01-01 00:00:00+5',
      '1970-01-01',
      ' 1970-01-01 00:00:00',
      '1970-01-01 00:00:00Zx',
    ])
      expect(parseTimestampLiteral(bad)).toBeUndefined();
  });
});

describe('clampDerivedStart', () => {
  it('moves a derived start before the previous end to that end, within 1 s only', () => {
    expect(clampDerivedStart(1_000, 1_200)).toBe(1_200);
    expect(clampDerivedStart(1_300, 1_200)).toBe(1_300);
    expect(clampDerivedStart(1_000, undefined)).toBe(1_000);
    // further back than the clamp's reach: another episode, left as it is
    expect(clampDerivedStart(0, MAX_START_CLAMP_US + 1)).toBe(0);
    expect(clampDerivedStart(0, MAX_START_CLAMP_US)).toBe(MAX_START_CLAMP_US);
  });
});
