// Throughput of the reference model and the optimized implementation on the
// same workload, measured side by side in one process.
//
// The workload is recorded once: the conformance generator picks legal steps
// against the model's state, from boot, until the run stops (a panic or a
// model limit) or reaches the segment length, and then starts a new segment
// from boot. Only replaying the recorded steps is timed. Model and
// implementation alternate round by round, so load from other processes on a
// shared machine affects both alike, and the report gives the median.
//
// Run: npx tsx bench/throughput.ts [--steps N] [--cpus N] [--rounds N] [--seed N]
//        [--warmup N] [--verbose]
// --warmup sets the untimed passes each side gets before the rounds (default 1);
// --verbose prints the milliseconds of every round.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { resolveStep } from '../conformance/generate/steps.js';
import { createImpl } from '../impl/index.js';
import { createModel, LwktModel } from '../model/index.js';
import type { SchedulerFactory } from '../spec/api.js';
import type { Config, Step } from '../spec/schema.js';

const SEGMENT_STEPS_MAX = 400;

interface Options {
  readonly steps: number;
  readonly cpus: number;
  readonly rounds: number;
  readonly seed: number;
  readonly warmup: number;
  readonly verbose: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '40000' },
      cpus: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '7' },
      seed: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '1' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, raw: string, min: number, max: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(`invalid --${name} ${raw}: expected a whole number from ${min} to ${max}`);
      process.exit(2);
    }
    return value;
  };
  return {
    steps: number('steps', values.steps, 100, 10_000_000),
    cpus: number('cpus', values.cpus, 1, 4),
    rounds: number('rounds', values.rounds, 1, 101),
    seed: number('seed', values.seed, 0, 2 ** 31 - 1),
    warmup: number('warmup', values.warmup, 0, 1000),
    verbose: values.verbose,
  };
}

/** Records legal step sequences, each replayable from the boot state. */
function recordWorkload(config: Config, totalSteps: number, seed: number): Step[][] {
  const choice = fc.nat({ max: 2 ** 30 });
  const draws = fc.sample(fc.tuple(choice, choice, choice, choice), { seed, numRuns: totalSteps });
  const segments: Step[][] = [];
  let recorded = 0;

  while (recorded < totalSteps) {
    const model = new LwktModel(config);
    const segment: Step[] = [];
    while (segment.length < SEGMENT_STEPS_MAX && recorded < totalSteps) {
      const [kind, ...selectors] = draws[recorded] ?? [0, 0, 0, 0];
      const resolved = resolveStep(model.snapshot(), 'legal', kind, selectors);
      if (resolved === null) break;

      const result = model.step(resolved.step);
      segment.push(resolved.step);
      recorded += 1;
      if (result.status === 'panic' || result.status === 'limit') break;
    }
    segments.push(segment);
  }
  return segments;
}

/** Replays every segment on a fresh instance and returns the elapsed milliseconds. */
function replay(factory: SchedulerFactory, config: Config, segments: Step[][]): number {
  const start = performance.now();
  for (const segment of segments) {
    const scheduler = factory(config);
    for (const step of segment) scheduler.step(step);
  }
  return performance.now() - start;
}

/** Counts the steps whose status or running threads differ between the two sides (untimed). */
function countDivergentSteps(config: Config, segments: Step[][]): number {
  let divergent = 0;
  for (const segment of segments) {
    const model = createModel(config);
    const impl = createImpl(config);
    for (const step of segment) {
      const expected = model.step(step).status;
      const actual = impl.step(step).status;
      if (expected !== actual || model.running().join() !== impl.running().join()) divergent += 1;
    }
  }
  return divergent;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function main(): void {
  const options = parseOptions();
  const config: Config = { ncpus: options.cpus, smp: options.cpus > 1, invariants: true, untimelySwitch: false, panicOnCscount: false };

  const segments = recordWorkload(config, options.steps, options.seed);
  const steps = segments.reduce((n, s) => n + s.length, 0);
  console.log(`workload: ${steps} legal steps in ${segments.length} segments, ${options.cpus} cpus, seed ${options.seed}`);

  const divergent = countDivergentSteps(config, segments);
  if (divergent > 0) {
    console.log(`WARNING: impl and model differ on ${divergent} steps of this workload; the ratio below compares different work`);
  }

  // Untimed passes (one by default) let the JIT compile both before measuring.
  for (let pass = 0; pass < options.warmup; pass++) {
    replay(createModel, config, segments);
    replay(createImpl, config, segments);
  }

  const modelMs: number[] = [];
  const implMs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    modelMs.push(replay(createModel, config, segments));
    implMs.push(replay(createImpl, config, segments));
  }

  const modelRate = steps / (median(modelMs) / 1000);
  const implRate = steps / (median(implMs) / 1000);
  if (options.verbose) {
    const list = (ms: number[]): string => ms.map((m) => m.toFixed(2)).join(' ');
    console.log(`model round ms: ${list(modelMs)}`);
    console.log(`impl round ms:  ${list(implMs)}`);
  }
  const format = (rate: number): string => `${Math.round(rate).toLocaleString('en-US')} steps/s`;
  console.log(`model: ${format(modelRate)} (median of ${options.rounds} rounds)`);
  console.log(`impl:  ${format(implRate)} (median of ${options.rounds} rounds)`);
  console.log(`ratio impl/model: ${(implRate / modelRate).toFixed(1)}x`);
}

main();
