// Replays the witnesses of spec/findings.md against the model of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71. The witnesses are parsed out of the
// document, so the document and this test cannot drift apart. Every step must
// be valid and legal, and the finding must show exactly at the step the
// document names and not before. A livelock shows as a cycle of spin steps
// that brings the state after the witness back unchanged.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { findAssertion, findInvariant, LIMITS } from '../../spec/catalogue.js';
import { Config, Step, type StepResult } from '../../spec/schema.js';
import { judgeStep } from '../../conformance/generate/legality.js';
import { curthread, isSpinning } from '../../conformance/generate/state.js';
import { checkInvariants, LwktModel, validateStep } from '../index.js';

type Outcome = 'invariant' | 'panic' | 'limit' | 'livelock';

interface Witness {
  readonly config: Config;
  readonly outcome: Outcome;
  readonly id: string;
  /** 1-based number of the step that shows the finding. */
  readonly showsAt: number;
  readonly steps: Step[];
  /** For a livelock, the spin steps that return the state after step showsAt to itself; empty otherwise. */
  readonly cycle: Step[];
}

interface Finding {
  readonly id: string;
  readonly title: string;
  readonly witnesses: Witness[];
}

const FINDINGS_MD = new URL('../../spec/findings.md', import.meta.url);

const CONFIG_LINE = /^\*\*Configuration:\*\* `([^`]+)`$/;
const SHOWS_LINE = /^\*\*Shows:\*\* (invariant|panic|limit) `([^`]+)` (?:after|at) step (\d+)$/;
const LIVELOCK_LINE = /^\*\*Shows:\*\* livelock after step (\d+): the cycle `([^`]+)` returns to the same state$/;

/** Parses a Shows line into the outcome, its id (the cycle's JSON for a livelock), the step number and the cycle. */
function parseShows(line: string, finding: string): Pick<Witness, 'outcome' | 'id' | 'showsAt' | 'cycle'> {
  const showsMatch = SHOWS_LINE.exec(line);
  if (showsMatch !== null) {
    return { outcome: showsMatch[1] as Outcome, id: showsMatch[2] ?? '', showsAt: Number(showsMatch[3]), cycle: [] };
  }

  const livelockMatch = LIVELOCK_LINE.exec(line);
  if (livelockMatch === null) throw new Error(`${finding}: the line after a Configuration line is not a valid Shows line`);
  const cycle: unknown = JSON.parse(livelockMatch[2] ?? '');
  if (!Array.isArray(cycle) || !cycle.every((s) => Value.Check(Step, s))) throw new Error(`${finding}: the livelock cycle is not an array of steps`);
  return { outcome: 'livelock', id: livelockMatch[2] ?? '', showsAt: Number(livelockMatch[1]), cycle };
}

/** Parses one finding section: every Configuration line, the Shows line after it and the next json block. */
function parseWitnesses(section: string, finding: string): Witness[] {
  const lines = section.split('\n');
  const witnesses: Witness[] = [];

  for (let i = 0; i < lines.length; i++) {
    const configMatch = CONFIG_LINE.exec(lines[i] ?? '');
    if (configMatch === null) continue;

    const expected = parseShows(lines[i + 1] ?? '', finding);

    const open = lines.indexOf('```json', i + 2);
    const close = lines.indexOf('```', open + 1);
    if (open < 0 || close < 0) throw new Error(`${finding}: a witness has no json block`);

    const config: unknown = JSON.parse(configMatch[1] ?? '');
    const steps: unknown = JSON.parse(lines.slice(open + 1, close).join('\n'));
    if (!Value.Check(Config, config)) throw new Error(`${finding}: invalid configuration ${configMatch[1]}`);
    if (!Array.isArray(steps) || !steps.every((s) => Value.Check(Step, s))) throw new Error(`${finding}: the json block is not an array of steps`);

    witnesses.push({ config, ...expected, steps });
    i = close;
  }
  return witnesses;
}

/** Splits spec/findings.md at its `### Fn. title` headings. */
function parseFindings(markdown: string): Finding[] {
  const headings = [...markdown.matchAll(/^### (F\d+)\. (.+)$/gm)];
  return headings.map((heading, n) => {
    const start = (heading.index ?? 0) + heading[0].length;
    const next = headings[n + 1];
    const end = next?.index ?? markdown.indexOf('\n## ', start);
    const id = heading[1] ?? '';
    return { id, title: heading[2] ?? '', witnesses: parseWitnesses(markdown.slice(start, end < 0 ? undefined : end), id) };
  });
}

/** Returns true when the outcome the document names is in this step's result or the state after it. */
function shows(w: Witness, result: StepResult, failing: readonly string[]): boolean {
  switch (w.outcome) {
    case 'invariant': return result.status !== 'panic' && result.status !== 'limit' && failing.includes(w.id);
    case 'panic': return result.status === 'panic' && result.panic?.id === w.id;
    case 'limit': return result.status === 'limit' && result.limit === w.id;
    case 'livelock': throw new Error('a livelock witness is checked by replayLivelock');
  }
}

function describeStep(n: number, step: Step, result: StepResult): string {
  return `step ${n} ${JSON.stringify(step)} gave ${JSON.stringify(result)}`;
}

/** Runs a witness from boot and checks each step's validity, legality and outcome. */
function replay(w: Witness): void {
  if (w.outcome === 'livelock') {
    replayLivelock(w);
    return;
  }
  const model = new LwktModel(w.config);

  w.steps.forEach((step, index) => {
    const n = index + 1;
    const before = model.snapshot();
    expect(validateStep(before, step), `step ${n} is invalid`).toBeNull();
    expect(judgeStep(before, step), `step ${n} is misuse`).toBeNull();

    const result = model.step(step);
    const stopped = result.status === 'panic' || result.status === 'limit';
    const failing = stopped ? [] : checkInvariants(model.snapshot()).map((f) => f.id);

    if (n < w.showsAt) {
      expect(stopped, describeStep(n, step, result)).toBe(false);
      expect(failing, `step ${n} fails ${w.id} before step ${w.showsAt}`).not.toContain(w.id);
      // Once a structure invariant fails the model no longer describes the source.
      const structural = failing.filter((id) => findInvariant(id)?.class === 'structure');
      expect(structural, `step ${n} breaks a structure invariant`).toEqual([]);
    } else {
      expect(shows(w, result, failing), describeStep(n, step, result)).toBe(true);
    }
  });
}

/**
 * Checks that the state after `prefix` is a livelock under `cycle`, and returns
 * why not, or null when it is. Every CPU must be spinning and must spin in the
 * cycle, so no CPU is left to make progress. Every cycle step must be a valid
 * and legal spin that leaves its thread spinning. The state after the whole
 * cycle must equal the state before it, so repeating the cycle never ends any
 * spin.
 */
function livelockFailure(config: Config, prefix: readonly Step[], cycle: readonly Step[]): string | null {
  const model = new LwktModel(config);
  for (const step of prefix) model.step(step);
  const before = model.snapshot();

  for (const gd of before.cpus) {
    if (!isSpinning(curthread(before, gd.cpuid))) return `cpu ${gd.cpuid} is not spinning`;
    if (!cycle.some((step) => step.cpu === gd.cpuid)) return `cpu ${gd.cpuid} does not spin in the cycle`;
  }

  for (const [index, step] of cycle.entries()) {
    const s = model.snapshot();
    if (step.call !== 'spin') return `cycle step ${index + 1} is not a spin step`;
    if (validateStep(s, step) !== null || judgeStep(s, step) !== null) return `cycle step ${index + 1} is invalid or misuse`;

    const result = model.step(step);
    if (result.status !== 'spinning') return `cycle step ${index + 1} ${JSON.stringify(step)} gave ${JSON.stringify(result)}`;
    if (!isSpinning(curthread(model.snapshot(), step.cpu))) return `cycle step ${index + 1} left its cpu not spinning`;
  }
  return isDeepStrictEqual(model.snapshot(), before) ? null : 'the state after the cycle differs from the state before it';
}

/** Runs a livelock witness: each step is valid and legal, and the cycle repeats the state first after step showsAt. */
function replayLivelock(w: Witness): void {
  const model = new LwktModel(w.config);

  w.steps.forEach((step, index) => {
    const n = index + 1;
    const before = model.snapshot();
    expect(validateStep(before, step), `step ${n} is invalid`).toBeNull();
    expect(judgeStep(before, step), `step ${n} is misuse`).toBeNull();

    const result = model.step(step);
    const stopped = result.status === 'panic' || result.status === 'limit';
    expect(stopped, describeStep(n, step, result)).toBe(false);
    const structural = checkInvariants(model.snapshot()).filter((f) => findInvariant(f.id)?.class === 'structure').map((f) => f.id);
    expect(structural, `step ${n} breaks a structure invariant`).toEqual([]);

    if (n < w.showsAt) expect(livelockFailure(w.config, w.steps.slice(0, n), w.cycle), `the cycle already repeats the state after step ${n}`).not.toBeNull();
  });

  expect(livelockFailure(w.config, w.steps, w.cycle)).toBeNull();
}

function knownOutcome(w: Witness): boolean {
  switch (w.outcome) {
    case 'invariant': return findInvariant(w.id) !== undefined;
    case 'panic': return findAssertion(w.id) !== undefined;
    case 'limit': return LIMITS.some((l) => l.id === w.id);
    case 'livelock': return w.cycle.length > 0 && w.cycle.every((s) => s.call === 'spin');
  }
}

const findings = parseFindings(readFileSync(FINDINGS_MD, 'utf8'));

describe('spec/findings.md', () => {
  it('numbers its findings F1, F2, ... in order', () => {
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.map((f) => f.id)).toEqual(findings.map((_, i) => `F${i + 1}`));
  });

  it.each(findings.map((f) => [f.id, f] as const))('%s has a witness of catalogued outcome', (_, finding) => {
    expect(finding.witnesses.length).toBeGreaterThan(0);
    for (const w of finding.witnesses) {
      expect(knownOutcome(w), `${w.outcome} ${w.id} is not in spec/catalogue.ts`).toBe(true);
      expect(w.steps.length, 'the witness must end at the step that shows the finding').toBe(w.showsAt);
    }
  });
});

describe.each(findings.map((f) => [`${f.id}. ${f.title}`, f] as const))('%s', (_, finding) => {
  it.each(finding.witnesses.map((w) => [`${w.outcome} ${w.id} at step ${w.showsAt}`, w] as const))('shows %s', (_name, w) => {
    replay(w);
  });
});
