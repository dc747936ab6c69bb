import {
  StbError,
  VALIDATION_PROPERTIES,
  type ValidationPropertyId,
} from '@stb/core';

/** Weights of the composite score by property id. */
export type ValidationWeights = Record<ValidationPropertyId, number>;

/**
 * Default weights of the composite score (see docs/validation-metrics.md). What a benchmark
 * reproduces first (which statements, in which order, with which parameters) and how hard it
 * loads the server (statement rate and concurrency over time) weigh 2; timing shape and repeats
 * weigh 1, and so does the mix of connection attributes (users, databases, applications); the session arrival curve and durations (often absent or target-dependent) weigh 0.5.
 */
export const defaultWeights: Readonly<ValidationWeights> = Object.freeze({
  queryTypes: 1,
  templates: 2,
  transitions: 2,
  parameters: 2,
  interArrival: 1,
  thinkTime: 1,
  sessionLength: 1,
  sessionArrival: 0.5,
  burstiness: 1,
  repeatRate: 1,
  durations: 0.5,
  statementRate: 2,
  concurrency: 2,
  connections: 1,
});

function invalid(message: string): StbError {
  return new StbError('STB_OPTIONS_INVALID', `[stb] [validator] ${message}`);
}

/** Merges overrides into {@link defaultWeights}, rejecting unknown ids and negative or non-finite weights. */
export function resolveWeights(
  overrides: Partial<Record<string, number>> = {},
): ValidationWeights {
  const out: ValidationWeights = { ...defaultWeights };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(VALIDATION_PROPERTIES as readonly string[]).includes(key))
      throw invalid(
        `Unknown weight \`${key}\`. Use one of: ${VALIDATION_PROPERTIES.join(', ')}.`,
      );
    if (!Number.isFinite(value) || value < 0)
      throw invalid(
        `Weight \`${key}\` must be a finite number >= 0. Fix the value.`,
      );
    out[key as ValidationPropertyId] = value;
  }
  return out;
}

/**
 * Parses `key=value,key=value` (the CLI's `--weights`) into validated weights.
 * @example
 * parseWeights('durations=0,templates=3').templates; // 3
 */
export function parseWeights(text: string): ValidationWeights {
  const overrides: Record<string, number> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw invalid(
        `Cannot read weight \`${item}\`. Write \`property=number\`, e.g. \`templates=2\`.`,
      );
    const value = Number(item.slice(eq + 1).trim());
    if (item.slice(eq + 1).trim() === '' || Number.isNaN(value))
      throw invalid(
        `Weight \`${item.slice(0, eq)}\` is not a number. Write \`property=number\`.`,
      );
    overrides[item.slice(0, eq).trim()] = value;
  }
  return resolveWeights(overrides);
}
