import { InputOrder, type LogThreadMessage } from '../src/log-thread';

// `stb parse --workers 2`'s main thread puts the threads' messages back in input order. When the
// next batch can never come (a `via` naming the wrong extraction thread: a bug in the parse
// thread), it must say so instead of waiting (the parse thread, out of credit, would wait too)
// or writing batches out of order.

/** A batch: the parse thread's own (no `seq`), or an extraction thread's answer to `seq`. */
const batch = (n: number, seq?: number): LogThreadMessage => ({
  kind: 'batch',
  results: `[${n}]`,
  raw: false,
  dialect: 'postgres',
  summary: undefined,
  progress: [],
  ...(seq === undefined ? {} : { seq }),
});
const via = (thread: number, seq: number): LogThreadMessage => ({
  kind: 'via',
  thread,
  seq,
});
const end: LogThreadMessage = {
  kind: 'end',
  summary: {} as Extract<LogThreadMessage, { kind: 'end' }>['summary'],
  progress: [],
  extractedHere: 0,
};
const error: LogThreadMessage = {
  kind: 'error',
  error: { name: 'StbError', message: 'bad line', code: 'STB_PARSE' },
};

/** An order whose next batch went to thread 0 while the parse thread named thread 1 (a bug). */
function misdirected(inFlight: number): InputOrder {
  const order = new InputOrder(2, inFlight);
  order.add(0, via(1, 0));
  order.add(1, batch(0, 0));
  return order;
}

/** `results` of the batches taken until none is there. */
function drain(order: InputOrder): string[] {
  const out: string[] = [];
  for (let m = order.take(); m !== undefined; m = order.take())
    if (m.kind === 'batch') out.push(m.results as string);
  return out;
}

describe('InputOrder', () => {
  it('takes each extraction thread batch at its via, whatever arrived first', () => {
    const order = new InputOrder(2, 4);
    order.add(2, batch(2, 1)); // thread 1's result before its via
    order.add(0, batch(0));
    order.add(0, via(0, 0));
    order.add(0, via(1, 1));
    expect(drain(order)).toEqual(['[0]']);
    expect(order.lost()).toBeUndefined();
    order.add(1, batch(1, 0));
    expect(drain(order)).toEqual(['[1]', '[2]']);
    expect(order.lost()).toBeUndefined();
  });

  it('does not call a batch lost while the parse thread may still post its via', () => {
    // The head waits for thread 0; thread 1's result came before its via, which is the message
    // still to come: the counts agree, but the parse thread holds credit.
    const order = new InputOrder(2, 3);
    order.add(0, via(0, 0));
    order.add(2, batch(9, 1));
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toBeUndefined();
  });

  it('gives a credit back with each via taken', () => {
    // Two vias taken leave the parse thread two credits: with one via waiting and a result that
    // came before its own via, nothing is lost yet.
    const order = new InputOrder(2, 2);
    for (let i = 0; i < 2; i++) {
      order.add(0, via(0, i));
      order.add(1, batch(i, i));
      expect(drain(order)).toEqual([`[${i}]`]);
    }
    order.add(0, via(0, 2));
    order.add(2, batch(3, 3));
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toBeUndefined();
  });

  it('calls the next batch lost when the parse thread ended without it', () => {
    const order = misdirected(24);
    order.add(0, end);
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toBe(
      'Extraction thread 2 has no batch left for the next one (1 received).',
    );
  });

  it('counts a parse error as the parse thread ended', () => {
    const order = misdirected(24);
    order.add(0, error);
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toMatch(/^Extraction thread 2 has no batch left/);
  });

  it('calls it lost when the parse thread is out of credit and waits for it', () => {
    const order = new InputOrder(2, 3);
    for (let i = 0; i < 3; i++) {
      order.add(0, via(1, i)); // each batch went to thread 0
      order.add(1, batch(i, i));
    }
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toBe(
      'Extraction thread 2 has no batch left for the next one (3 received, the parse thread out of credit).',
    );
    // One credit short of that, the parse thread may still post: not lost yet.
    const early = new InputOrder(2, 4);
    for (let i = 0; i < 3; i++) {
      early.add(0, via(1, i));
      early.add(1, batch(i, i));
    }
    expect(early.lost()).toBeUndefined();
  });

  it('counts the credits of batches the parse thread extracted itself', () => {
    const order = new InputOrder(2, 3);
    order.add(0, batch(0));
    order.add(0, via(1, 0)); // a bug: the batch went to thread 0
    order.add(1, batch(10, 0));
    expect(drain(order)).toEqual(['[0]']);
    expect(order.lost()).toBeUndefined(); // the parse thread holds two credits
    order.add(0, batch(1));
    expect(order.lost()).toBeUndefined();
    order.add(0, batch(2)); // its last credit
    expect(order.lost()).toMatch(/out of credit/);
  });

  it("takes an extraction thread's error, or its batch cut by one, at the error's via", () => {
    const order = new InputOrder(2, 24);
    order.add(0, via(0, 0));
    order.add(0, via(1, 1));
    order.add(0, end);
    const cut = { ...batch(0, 0), error: error.error } as LogThreadMessage;
    order.add(1, cut);
    order.add(2, { ...error, seq: 1 });
    expect(order.take()).toBe(cut);
    expect(order.take()).toEqual({ ...error, seq: 1 });
    expect(order.take()).toBe(end);
    expect(order.lost()).toBeUndefined();
  });

  it('calls a via to a thread that does not exist lost at once', () => {
    const order = new InputOrder(2, 24);
    order.add(0, via(2, 0));
    expect(order.take()).toBeUndefined();
    expect(order.lost()).toBe(
      'The parse thread named extraction thread 3 of 2.',
    );
  });

  it('stops at a batch that is not the one its via names', () => {
    // Two vias naming each other's thread: taken as they come, the batches would be swapped.
    const order = new InputOrder(2, 24);
    order.add(0, via(1, 0));
    order.add(0, via(0, 1));
    order.add(1, batch(0, 0)); // thread 0 got batch 0
    order.add(2, batch(1, 1)); // thread 1 got batch 1
    // Seen before any take, too.
    expect(order.lost()).toBe(
      'Extraction thread 2 answered batch 1 where batch 0 was due.',
    );
    expect(order.take()).toBeUndefined();
    expect(order.take()).toBeUndefined();
  });
});
