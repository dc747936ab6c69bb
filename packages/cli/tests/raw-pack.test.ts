import type { RawQueryEvent } from '@stb/core';
import { packRaw, unpackRaw } from '../src/raw-pack';

describe('packRaw / unpackRaw (raw events crossing to the main thread)', () => {
  it('gives back every field, present or absent, of every event', () => {
    const events: RawQueryEvent[] = [
      {
        sessionId: '0:1234@2026-12-03 10:00:00',
        sql: "SELECT 'é😀' FROM t WHERE a = $1",
        source: { file: '/logs/a.log', line: 3_000_000_000 },
        dialect: 'postgres',
        startUs: 1_764_756_000_123_456,
        durationUs: 1500,
        user: 'u',
        database: 'db',
        application: 'pgbench',
        client: '127.0.0.1(5432)',
        params: [
          { index: 1, value: "it''s" },
          { index: 2, value: null },
        ],
        preparedName: 'P0_1',
        transactionId: '12/34',
        error: { code: '22012', message: 'division by zero' },
        fileIndex: 1,
      },
      // No start (plain SQL), nothing optional, an empty statement text.
      {
        sessionId: 's',
        sql: '',
        source: { file: 'b.sql', line: 1 },
        dialect: 'mysql',
      },
      {
        sessionId: 's',
        sql: 'COMMIT',
        source: { file: 'b.sql', line: 2 },
        dialect: 'mysql',
        startUs: 0,
        durationUs: 0,
        error: {},
      },
    ];
    const { packed, transfer } = packRaw(events);
    expect(transfer).toEqual([packed.times.buffer, packed.ints.buffer]);
    expect(packed.strings.filter((s) => s === 's')).toHaveLength(1);
    // Through a real structured clone with the buffers transferred, as between threads.
    const crossed = structuredClone(packed, { transfer });
    expect(unpackRaw(crossed)).toEqual(events);
    expect(packed.times.byteLength).toBe(0); // moved, not copied
  });

  it('an empty batch', () => {
    expect(unpackRaw(packRaw([]).packed)).toEqual([]);
  });
});
