import type { QueryTemplate, QueryType, TxnBoundary } from '../schema';

/**
 * What every stage needs to know about a statement (DESIGN.md, "Load"): whether it opens or
 * closes a transaction, and whether it writes. The extractor decides these once from its lexer
 * and records them on the template record (`boundary`, `writes`); {@link templateFacts} reads
 * them, falling back to {@link statementFactsFromText} for traces written before they existed.
 */
export interface StatementFacts {
  /** `begin` (BEGIN, START TRANSACTION), `end` (COMMIT, END, ROLLBACK, ABORT), or null. */
  readonly boundary: TxnBoundary | null;
  /** INSERT/UPDATE/DELETE/MERGE/DDL, or a utility statement other than SET/SHOW/EXPLAIN. */
  readonly writes: boolean;
}

const WRITE_TYPES: ReadonlySet<QueryType> = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'DDL',
]);
const READ_UTILITY = /^\s*(set|show|explain)\b/i;
/** BEGIN (not a `BEGIN … END` block) or START TRANSACTION. */
const BEGIN = /^\s*(begin\b(?!\s*;?\s*end)|start\s+transaction\b)/i;
const END = /^\s*(commit|end|abort|rollback)\b/i;
/** `ROLLBACK TO [SAVEPOINT]` ends no transaction; `COMMIT PREPARED`/`ROLLBACK PREPARED` end another one. */
const NOT_END = /^\s*rollback\s+(work\s+|transaction\s+)?to\b|\bprepared\b/i;

/**
 * Whether a statement of this type writes, given its first word for utility statements
 * (`SET`/`SHOW`/`EXPLAIN` read; `VACUUM`, `COPY`, `LOCK`… count as writes).
 */
export function isWriteStatement(queryType: QueryType, text: string): boolean {
  return (
    WRITE_TYPES.has(queryType) ||
    (queryType === 'UTILITY' && !READ_UTILITY.test(text))
  );
}

/**
 * The fallback: facts of a statement from its normalised text and type, for template records
 * that lack `boundary`/`writes` (traces written before format 1.1, hand-made traces).
 */
export function statementFactsFromText(
  text: string,
  queryType: QueryType,
): StatementFacts {
  let boundary: TxnBoundary | null = null;
  if (queryType === 'TCL' || queryType === 'OTHER' || queryType === 'UTILITY') {
    if (BEGIN.test(text)) boundary = 'begin';
    else if (END.test(text) && !NOT_END.test(text)) boundary = 'end';
  }
  return { boundary, writes: isWriteStatement(queryType, text) };
}

/** Facts of a template: the recorded `boundary`/`writes` when present, else the text fallback. */
export function templateFacts(
  t: Pick<QueryTemplate, 'text' | 'queryType' | 'boundary' | 'writes'>,
): StatementFacts {
  if (t.writes !== undefined)
    return { boundary: t.boundary ?? null, writes: t.writes };
  const fallback = statementFactsFromText(t.text, t.queryType);
  return t.boundary !== undefined
    ? { boundary: t.boundary, writes: fallback.writes }
    : fallback;
}
