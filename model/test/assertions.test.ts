import { describe, expect, it } from 'vitest';
import type { Config } from '../../spec/schema.js';
import { LwktModel } from '../index.js';
import { create, expectStep, UP } from './helpers.js';

const NO_INVARIANTS: Config = { ...UP, invariants: false };

describe('schedule_self.idle-thread (lwkt_thread.c:164)', () => {
  it('panics when the idle thread schedules itself', () => {
    const model = new LwktModel(UP);
    const result = expectStep(model, { cpu: 0, call: 'lwkt_schedule_self' }, 'panic');
    expect(result.panic).toEqual({ id: 'schedule_self.idle-thread', site: 'lwkt_thread.c:164' });
    expect(model.snapshot().panicked).toEqual(result.panic);
    expect(model.coverage().assertions['schedule_self.idle-thread']).toEqual({ evaluated: 1, failed: 1 });
  });

  it('passes for an ordinary thread', () => {
    const model = new LwktModel(UP);
    create(model, 0);
    expectStep(model, { cpu: 0, call: 'lwkt_switch' }, 'suspended');
    expectStep(model, { cpu: 0, call: 'lwkt_schedule_self' }, 'returned');
    expect(model.coverage().assertions['schedule_self.idle-thread']).toEqual({ evaluated: 1, failed: 0 });
  });

  it('is not compiled in without INVARIANTS', () => {
    const model = new LwktModel(NO_INVARIANTS);
    expectStep(model, { cpu: 0, call: 'lwkt_schedule_self' }, 'returned');
    expect(model.coverage().assertions['schedule_self.idle-thread']).toEqual({ evaluated: 0, failed: 0 });
  });
});

describe('rele.refs-zero (lwkt_thread.c:367)', () => {
  it('panics on lwkt_rele without a hold', () => {
    const model = new LwktModel(UP);
    const result = expectStep(model, { cpu: 0, call: 'lwkt_rele', td: 0 }, 'panic');
    expect(result.panic).toEqual({ id: 'rele.refs-zero', site: 'lwkt_thread.c:367' });
  });

  it('passes after lwkt_hold', () => {
    const model = new LwktModel(UP);
    expectStep(model, { cpu: 0, call: 'lwkt_hold', td: 0 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_rele', td: 0 }, 'returned');
    expect(model.snapshot().threads[0]?.td_refs).toBe(0);
  });
});

describe('setpri.negative (lwkt_thread.c:1030)', () => {
  it('panics on a negative priority', () => {
    const model = new LwktModel(UP);
    const td = create(model, 0);
    const result = expectStep(model, { cpu: 0, call: 'lwkt_setpri', td, pri: -1 }, 'panic');
    expect(result.panic).toEqual({ id: 'setpri.negative', site: 'lwkt_thread.c:1030' });
  });

  it('accepts 0, and 40 adds a critical section (no upper bound)', () => {
    const model = new LwktModel(UP);
    const td = create(model, 0);
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td, pri: 0 }, 'returned');
    expectStep(model, { cpu: 0, call: 'lwkt_setpri', td, pri: 40 }, 'returned');
    // Created in one section (32) at priority 0, plus 40 = one more section and priority 8.
    expect(model.snapshot().threads[td]?.td_pri).toBe(32 + 40);
  });
});

describe('crit_panic.negative (lwkt_thread.c:1303)', () => {
  it('panics on crit_exit without crit_enter and zeroes td_pri', () => {
    const model = new LwktModel(UP);
    const result = expectStep(model, { cpu: 0, call: 'crit_exit' }, 'panic');
    expect(result.panic).toEqual({ id: 'crit_panic.negative', site: 'lwkt_thread.c:1303' });
    expect(model.snapshot().threads[0]?.td_pri).toBe(0);
    expect(model.coverage().functions['crit_panic']).toBe(1);
  });

  it('passes for a balanced pair', () => {
    const model = new LwktModel(UP);
    expectStep(model, { cpu: 0, call: 'crit_enter' }, 'returned');
    expectStep(model, { cpu: 0, call: 'crit_exit' }, 'returned');
    expect(model.snapshot().threads[0]?.td_pri).toBe(12);
  });

  it('does not check crit_exit_quick', () => {
    const model = new LwktModel(UP);
    expectStep(model, { cpu: 0, call: 'crit_exit_quick' }, 'returned');
    expect(model.snapshot().threads[0]?.td_pri).toBe(12 - 32);
  });
});

describe('stopped machine', () => {
  it('refuses further steps after a panic', () => {
    const model = new LwktModel(UP);
    expectStep(model, { cpu: 0, call: 'lwkt_rele', td: 0 }, 'panic');
    expect(() => model.step({ cpu: 0, call: 'lwkt_switch' })).toThrow(/stopped/);
  });
});
