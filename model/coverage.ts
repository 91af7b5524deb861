// Coverage of the model: calls of each modelled function and evaluations of
// each catalogued check, cumulative since the machine was built.
import type { Machine } from './machine.js';

export interface ModelCoverage {
  /** Calls of each seed function (spec/catalogue.ts SEED_FUNCTIONS) and of the environment functions the model runs. */
  functions: Record<string, number>;
  /** By catalogue id; `evaluated` counts only checks compiled in under the run's build options. */
  assertions: Record<string, { evaluated: number; failed: number }>;
}

export function coverage(m: Machine): ModelCoverage {
  const assertions: ModelCoverage['assertions'] = {};
  for (const [id, counts] of Object.entries(m.assertionCounts)) assertions[id] = { ...counts };
  return { functions: { ...m.functionCalls }, assertions };
}
