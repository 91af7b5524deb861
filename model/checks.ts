// Assertion sites and model limits.
//
// Every KASSERT, KKASSERT, ASSERT_MP_LOCK_HELD and panic() of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71 and of the code it calls has an id in
// spec/catalogue.ts. A check is compiled in only under the build options of its
// `activeWhen`; a failing check stops the machine with a KernelPanic.
import { findAssertion } from '../spec/catalogue.js';
import { KernelPanic, ModelLimit, type Machine } from './machine.js';

/** True when the kernel of this run is built with the check `id`. */
export function isCompiledIn(m: Machine, id: string): boolean {
  const site = findAssertion(id);
  if (site === undefined) throw new Error(`internal error: assertion ${id} is not in the catalogue`);
  const when = site.activeWhen;
  if (when.invariants && !m.config.invariants) return false;
  if (when.smp && !m.config.smp) return false;
  if (when.panicOnCscount === true && !m.config.panicOnCscount) return false;
  return true;
}

/**
 * Evaluates the check `id` when it is compiled in: panics unless `ok` holds.
 * `beforePanic` runs first when the check fails (crit_panic resets td_pri).
 */
export function check(m: Machine, id: string, ok: boolean, beforePanic?: () => void): void {
  if (!isCompiledIn(m, id)) return;

  const counts = m.assertionCounts[id];
  if (counts === undefined) throw new Error(`internal error: no coverage entry for ${id}`);
  counts.evaluated += 1;
  if (ok) return;

  counts.failed += 1;
  beforePanic?.();
  const site = findAssertion(id);
  throw new KernelPanic({ id, site: site?.site ?? id });
}

/** Stops the step with the model limit `id`. */
export function limit(id: string): never {
  throw new ModelLimit(id);
}

/** Stops the step: a thread switched at a point where spec/semantics.md 2.4 defines no frame. */
export function unmodelledSwitch(): never {
  return limit('unmodelled-switch');
}
