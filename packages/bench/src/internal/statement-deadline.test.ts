import type { ExecOutcome } from '../bound-query';
import { StatementDeadline } from './statement-deadline';

const ok = (rows: number): ExecOutcome => ({ ok: true, rows });

describe('StatementDeadline', () => {
  it('settles a statement begun while another ran: the driver queued it behind the first', () => {
    const d = new StatementDeadline({
      ms: 60_000,
      cancel: () => Promise.resolve(true),
      giveUp: () => undefined,
      cancelName: 'the cancel request',
    });
    try {
      const got: [string, ExecOutcome][] = [];
      const first = d.begin(0, (o) => got.push(['first', o]));
      const second = d.begin(0, (o) => got.push(['second', o]));
      expect(d.running).toBe(true);
      // until 2026-12-06 the first one's outcome was dropped here, and its session waited for ever
      d.end(first, ok(1));
      expect(d.running).toBe(true);
      d.end(second, ok(2));
      expect(got).toEqual([
        ['first', ok(1)],
        ['second', ok(2)],
      ]);
      expect(d.running).toBe(false);
      // a late outcome for either is dropped
      d.end(first, ok(3));
      d.end(second, ok(4));
      expect(got).toHaveLength(2);
    } finally {
      d.dispose();
    }
  });
});
