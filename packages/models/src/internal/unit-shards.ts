import type { UnitProcessState } from '../state-schemas';
import type {
  CaptureBounds,
  SessionClassing,
  SessionSummary,
  TemplateTally,
} from './session-classes';
import {
  DominantMixes,
  SessionProfiles,
  classifySessions,
  mixAliases,
} from './session-classes';

/**
 * What a shard of a sharded fit records about **every** session of the capture, its own and the
 * other shards' (docs/scaling.md "Sharded fitting"), so that the two decisions one fit takes over
 * all sessions come out the same in every shard:
 *
 * - **Template-mix aliasing**: dominant templates whose sessions share one template mix form one
 *   class; the representative is the first seen in close order. Every shard computes the same
 *   alias map from all sessions' mixes, so the groups a shard reports, and the classes the merge
 *   forms from them, are one fit's.
 * - **Dispatched units**: a pool class's unit process needs the gaps between consecutive
 *   transaction starts of all its connections, interleaved — not a sum of per-shard statistics.
 *   Every shard can form the capture's classes itself (the share rule over all sessions, as the
 *   merge will); the shard that owns a class's first session runs the class's unit fitter over
 *   all of the class's pooled connections (it reads every event anyway) and reports the result
 *   on its own group of that session. The merge takes it from there: the same decision and the
 *   same state as one fit, byte for byte, and each class's units are learned by one shard only.
 *
 * Memory: a 45-byte profile and 4 + 4 bytes of indices per session of the capture (one fit's
 * {@link SessionProfiles} cost, in every shard), plus the template mix per dominant template.
 */
export class CaptureSessions {
  readonly profiles = new SessionProfiles();
  readonly mixes = new DominantMixes();
  /** Per close index: the shard's own profile index, or -1 for another shard's session. */
  #own: Int32Array = new Int32Array(1024);
  /** Per session ordinal: its close index. */
  #closeOf: Int32Array = new Int32Array(1024);

  /**
   * Records a closed session (every shard's, in close order) with its `ordinal`: `own` is its
   * index in the shard's own profiles, -1 when another shard owns it. Returns its close index.
   */
  add(
    summary: SessionSummary,
    tally: TemplateTally,
    o: { ordinal: number; openAtEnd: boolean; own: number },
  ): number {
    const close = this.profiles.add(summary, o.openAtEnd);
    this.mixes.add(tally);
    this.#own = set(this.#own, close, o.own);
    this.#closeOf = set(this.#closeOf, o.ordinal, close);
    return close;
  }

  /** Close index of the session (piece) with this ordinal. */
  closeOf(ordinal: number): number {
    return this.#closeOf[ordinal] as number;
  }

  /** The shard's own profile index of the session at `close`, or -1. */
  ownIndex(close: number): number {
    return this.#own[close] as number;
  }

  /** One fit's template-mix aliases (dominant template → representative). */
  aliases(): Map<number, number> {
    return mixAliases(this.profiles, this.mixes);
  }

  /** The capture's classes, as one fit (and the merge of the shards) forms them. */
  classify(
    resolutionUs: number,
    bounds: CaptureBounds,
    o: { alias: ReadonlyMap<number, number>; connKeys: readonly string[] },
  ): SessionClassing {
    return classifySessions(this.profiles, resolutionUs, { bounds, ...o });
  }

  /**
   * Per class of `capture`: whether this shard learns its units — a class of ≥ 2 pooled
   * connections whose first session is this shard's (exactly one shard owns it).
   */
  unitOwners(capture: SessionClassing): boolean[] {
    return capture.classes.map(
      (c) => c.pool && c.sessions >= 2 && this.ownIndex(c.firstMember) >= 0,
    );
  }

  /**
   * The units learned per class of `capture`, placed on the shard's own classes (`own`, one per
   * group): on the group of the class's first session, whose `firstClose` the merge matches with
   * the merged class's first member.
   */
  onOwnClasses(
    capture: SessionClassing,
    own: SessionClassing,
    units: readonly (UnitProcessState | undefined)[],
  ): (UnitProcessState | undefined)[] {
    const out: (UnitProcessState | undefined)[] = own.classes.map(
      () => undefined,
    );
    units.forEach((u, i) => {
      if (!u) return;
      const first = (capture.classes[i] as { firstMember: number }).firstMember;
      const mine = this.ownIndex(first);
      if (mine >= 0) out[own.classOf[mine] as number] = u;
    });
    return out;
  }
}

/** `a[i] = v`, growing `a` (doubling) when needed. */
function set(a: Int32Array, i: number, v: number): Int32Array {
  let out = a;
  if (i >= out.length) {
    let n = out.length;
    while (i >= n) n *= 2;
    out = new Int32Array(n);
    out.set(a);
  }
  out[i] = v;
  return out;
}
