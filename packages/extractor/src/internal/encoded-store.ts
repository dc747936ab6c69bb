import { eventLineField, eventLineHead, type TraceEvent } from '@stb/core';

/**
 * Encoded events held outside the JavaScript heap: each event's JSON line is written as UTF-8
 * into byte slabs and read back when it leaves. The reorder window holds up to 100 000
 * events for seconds; as strings they all survive two scavenges, get promoted to the old
 * generation and die there, which costs mark-compact collections and leaves the old generation
 * tens of megabytes larger between them. Here an event costs a slot in typed arrays and its
 * bytes in a slab; a slab is reused once every event written to it has left.
 *
 * An event's line can be held without its first three fields (`endEvent`): its start and a
 * reference to its session id go to the slot, whose template id it already is; they are written
 * back in front when it leaves. On a pgbench log that is 118 of a line's 174 bytes
 * (docs/extraction.md, "The window's lines held without their ids").
 */
export class EncodedStore {
  readonly #slabBytes: number;
  /** Slabs by id; a released id is reused (with its slab, when it has the standard size). */
  readonly #slabs: (Buffer | undefined)[] = [];
  readonly #slabLive: number[] = [];
  readonly #freeSlabs: number[] = [];
  #cur = -1;
  #pos = 0;
  // Slots: which slab, where, how long, and the template id (a reference to the template's own
  // string, so it costs no copy).
  #slotSlab = new Int32Array(1024);
  #slotStart = new Int32Array(1024);
  #slotLen = new Int32Array(1024);
  #slotTemplate: (string | undefined)[] = new Array<string | undefined>(1024);
  /** The event's start (`endEvent`). */
  #slotStartUs = new Float64Array(1024);
  /** The event's session id (`endEvent`), or undefined: the slot holds a whole line. */
  #slotSession: (string | undefined)[] = new Array<string | undefined>(1024);
  #freeSlots: number[] = [];
  #nextSlot = 0;

  // `,"sessionId":…` and `,"templateId":…` by id, for the ids met (each cleared past
  // 10 000 of them: a log of short sessions meets a new id every few statements).
  readonly #sessionFields = new Map<string, string>();
  readonly #templateFields = new Map<string, string>();

  constructor(slabBytes = 1 << 20) {
    this.#slabBytes = slabBytes;
  }

  /** Bytes held in slabs (for tests and measurements). */
  get slabBytes(): number {
    let n = 0;
    for (const s of this.#slabs) n += s?.length ?? 0;
    return n;
  }

  #newSlab(size: number): number {
    const reuse = size === this.#slabBytes ? this.#freeSlabs.pop() : undefined;
    if (reuse !== undefined) {
      this.#slabs[reuse] ??= Buffer.allocUnsafeSlow(size);
      return reuse;
    }
    let id = this.#slabs.indexOf(undefined);
    if (id === -1) id = this.#slabs.length;
    this.#slabs[id] = Buffer.allocUnsafeSlow(size);
    this.#slabLive[id] = 0;
    return id;
  }

  #slot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    const s = this.#nextSlot++;
    if (s === this.#slotSlab.length) {
      const grow = <A extends Int32Array | Float64Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.#slotSlab = grow(this.#slotSlab);
      this.#slotStart = grow(this.#slotStart);
      this.#slotLen = grow(this.#slotLen);
      this.#slotStartUs = grow(this.#slotStartUs);
      this.#slotSession.length = this.#slotSlab.length;
      this.#slotTemplate.length = this.#slotSlab.length;
    }
    return s;
  }

  /** Stores a line; returns its slot. */
  put(templateId: string, json: string): number {
    this.#writeWhole(json);
    return this.end(templateId);
  }

  /**
   * Stores an event's line given from `,"params":` on (`rest`, as `stringifyEventRest` writes
   * it): see `endEvent`. Returns its slot.
   */
  putEvent(ev: TraceEvent, rest: string): number {
    this.#writeWhole(rest);
    return this.endEvent(ev.templateId, ev.startUs, ev.sessionId);
  }

  /** Begins a line and writes `text` as all of it (`end` or `endEvent` stores it). */
  #writeWhole(text: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit: room for that many is room enough. A line longer
    // than a slab gets a slab of its own, of its exact size.
    const most = text.length * 3;
    this.begin(most > this.#slabBytes ? Buffer.byteLength(text) : most);
    this.write(text);
  }

  // A line written in parts: begin(most), then writeAscii / copy / write, then end (a whole
  // line) or endEvent (an event's line from `,"params":` on).
  #wSlab = -1;
  #wStart = 0;
  #wAt = 0;

  /** Starts a line of at most `most` bytes, written in parts; `end` or `endEvent` stores it. */
  begin(most: number): void {
    if (most > this.#slabBytes) {
      // A line longer than a slab gets a slab of its own.
      this.#wSlab = this.#newSlab(most);
      this.#wStart = 0;
    } else {
      this.#wSlab = this.#room(most);
      this.#wStart = this.#pos;
    }
    this.#wAt = this.#wStart;
  }

  /** Appends an ASCII string to the line begun. */
  writeAscii(s: string): void {
    this.#wAt += (this.#slabs[this.#wSlab] as Buffer).write(
      s,
      this.#wAt,
      'latin1',
    );
  }

  /** Appends a string, UTF-8, to the line begun. */
  write(s: string): void {
    this.#wAt += (this.#slabs[this.#wSlab] as Buffer).write(s, this.#wAt);
  }

  /** Appends `bytes[from, to)` to the line begun. */
  copy(bytes: Uint8Array, from: number, to: number): void {
    (this.#slabs[this.#wSlab] as Buffer).set(
      bytes.subarray(from, to),
      this.#wAt,
    );
    this.#wAt += to - from;
  }

  /** Stores the line begun; returns its slot. */
  end(templateId: string): number {
    const s = this.#endLine(templateId);
    this.#slotSession[s] = undefined;
    return s;
  }

  /**
   * Stores the line begun as the rest of an event's line after its `templateId` (from
   * `,"params":` on); `take` gives back the whole line, `eventLineHead(startUs)`, the session's
   * and the template's fields in front. Returns its slot.
   */
  endEvent(templateId: string, startUs: number, sessionId: string): number {
    const s = this.#endLine(templateId);
    this.#slotStartUs[s] = startUs;
    this.#slotSession[s] = sessionId;
    return s;
  }

  #endLine(templateId: string): number {
    const slab = this.#wSlab;
    if (slab === this.#cur) this.#pos = this.#wAt;
    this.#slabLive[slab] = (this.#slabLive[slab] as number) + 1;
    const s = this.#slot();
    this.#slotSlab[s] = slab;
    this.#slotStart[s] = this.#wStart;
    this.#slotLen[s] = this.#wAt - this.#wStart;
    this.#slotTemplate[s] = templateId;
    return s;
  }

  /** The current slab, or a new one when it has less than `most` bytes left. */
  #room(most: number): number {
    if (this.#cur === -1 || this.#pos + most > this.#slabBytes) {
      // The current slab is full: it is released once its last event has left.
      if (this.#cur !== -1 && this.#slabLive[this.#cur] === 0)
        this.#releaseSlab(this.#cur);
      this.#cur = this.#newSlab(this.#slabBytes);
      this.#pos = 0;
    }
    return this.#cur;
  }

  /** The template id of a slot's event. */
  templateId(slot: number): string {
    return this.#slotTemplate[slot] as string;
  }

  /** Reads a slot's line back and frees the slot. */
  take(slot: number): string {
    const slab = this.#slotSlab[slot] as number;
    const start = this.#slotStart[slot] as number;
    const buf = this.#slabs[slab] as Buffer;
    const json = buf.toString(
      'utf8',
      start,
      start + (this.#slotLen[slot] as number),
    );
    const templateId = this.#slotTemplate[slot] as string;
    const sessionId = this.#slotSession[slot];
    const startUs = this.#slotStartUs[slot] as number;
    this.#slotTemplate[slot] = undefined;
    this.#slotSession[slot] = undefined;
    this.#freeSlots.push(slot);
    const live = (this.#slabLive[slab] as number) - 1;
    this.#slabLive[slab] = live;
    if (live === 0 && slab !== this.#cur) this.#releaseSlab(slab);
    if (sessionId === undefined) return json;
    return `${eventLineHead(startUs)}${field(this.#sessionFields, 'sessionId', sessionId)}${field(this.#templateFields, 'templateId', templateId)}${json}`;
  }

  #releaseSlab(id: number): void {
    const buf = this.#slabs[id] as Buffer;
    if (buf.length === this.#slabBytes && this.#freeSlabs.length < 2) {
      this.#freeSlabs.push(id);
      return;
    }
    this.#slabs[id] = undefined;
  }
}

/** `eventLineField(key, id)`, from `fields` when there (kept there, up to 10 000). */
function field(
  fields: Map<string, string>,
  key: 'sessionId' | 'templateId',
  id: string,
): string {
  let f = fields.get(id);
  if (f === undefined) {
    if (fields.size === 10_000) fields.clear();
    f = eventLineField(key, id);
    fields.set(id, f);
  }
  return f;
}
