// Fixes fast-check's seed and run count for the whole test suite, so that
// property tests and mutation scores are reproducible. FC_SEED=random lifts it.
import fc from 'fast-check';

const env = process.env;
const underStryker = env['STRYKER_MUTATOR_WORKER'] !== undefined;

fc.configureGlobal({
  ...(env['FC_SEED'] === 'random' ? {} : { seed: Number(env['FC_SEED'] ?? 42) }),
  numRuns: Number(env['FC_NUM_RUNS'] ?? 100),
  // Under Stryker a property only has to fail; shrinking would waste the time.
  endOnFailure: underStryker,
});
