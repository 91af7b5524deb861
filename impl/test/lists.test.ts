import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FN, FrameStore, ST } from '../frames.js';
import { bsfl, bsrl, IntrusiveLists, IpiRings, NIL, ThreadBitsets } from '../lists.js';

describe('bit search', () => {
  it('bsrl finds the most significant bit as unsigned', () => {
    expect(bsrl(1)).toBe(0);
    expect(bsrl(0x1000)).toBe(12);
    expect(bsrl(0x80000000)).toBe(31);
    expect(bsrl(0xffffffff)).toBe(31);
    expect(bsrl(0)).toBe(-1);
  });

  it('bsfl finds the least significant bit', () => {
    expect(bsfl(0b1011000)).toBe(3);
    expect(bsfl(0x80000000)).toBe(31);
    expect(bsfl(0)).toBe(-1);
  });

  it('bsrl agrees with a bit scan for any 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), (x) => {
        let hi = -1;
        for (let b = 0; b < 32; b++) if (Math.floor(x / 2 ** b) % 2 === 1) hi = b;
        expect(bsrl(x)).toBe(hi);
      }),
    );
  });
});

describe('IntrusiveLists', () => {
  it('keeps insertion order and links both ways', () => {
    const l = new IntrusiveLists(8, 2);
    l.insertTail(0, 3);
    l.insertTail(0, 5);
    l.insertHead(0, 1);
    expect(l.toArray(0)).toEqual([1, 3, 5]);
    expect(l.prev[5]).toBe(3);
    expect(l.tail[0]).toBe(5);
    expect(l.on[3]).toBe(0);
    expect(l.isEmpty(1)).toBe(true);
  });

  it('removes from head, middle and tail', () => {
    const l = new IntrusiveLists(8, 1);
    for (const e of [1, 2, 3, 4]) l.insertTail(0, e);
    l.remove(2);
    expect(l.toArray(0)).toEqual([1, 3, 4]);
    l.remove(1);
    l.remove(4);
    expect(l.toArray(0)).toEqual([3]);
    expect(l.head[0]).toBe(3);
    expect(l.tail[0]).toBe(3);
    l.remove(3);
    expect(l.first(0)).toBe(NIL);
    expect(l.tail[0]).toBe(NIL);
    expect(l.on[3]).toBe(NIL);
  });

  it('ignores removing an unlinked element', () => {
    const l = new IntrusiveLists(4, 1);
    l.insertTail(0, 1);
    l.remove(2);
    expect(l.toArray(0)).toEqual([1]);
  });

  it('rotates an element to the tail', () => {
    const l = new IntrusiveLists(8, 1);
    for (const e of [1, 2, 3]) l.insertTail(0, e);
    l.rotateToTail(1);
    expect(l.toArray(0)).toEqual([2, 3, 1]);
    l.rotateToTail(1);
    expect(l.toArray(0)).toEqual([2, 3, 1]);
  });

  it('moves an element inserted twice instead of corrupting the lists', () => {
    const l = new IntrusiveLists(8, 2);
    l.insertTail(0, 1);
    l.insertTail(0, 2);
    l.insertTail(0, 2);
    l.insertTail(1, 1);
    expect(l.toArray(0)).toEqual([2]);
    expect(l.toArray(1)).toEqual([1]);
  });

  it('matches an array model under random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('tail' as const), list: fc.nat(2), e: fc.nat(9) }),
      fc.record({ kind: fc.constant('head' as const), list: fc.nat(2), e: fc.nat(9) }),
      fc.record({ kind: fc.constant('remove' as const), list: fc.constant(0), e: fc.nat(9) }),
      fc.record({ kind: fc.constant('rotate' as const), list: fc.constant(0), e: fc.nat(9) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const l = new IntrusiveLists(10, 3);
        const model: number[][] = [[], [], []];
        const unlink = (e: number) => {
          for (const m of model) {
            const i = m.indexOf(e);
            if (i >= 0) m.splice(i, 1);
          }
        };
        for (const { kind, list, e } of ops) {
          if (kind === 'tail') {
            l.insertTail(list, e);
            unlink(e);
            model[list]!.push(e);
          } else if (kind === 'head') {
            l.insertHead(list, e);
            unlink(e);
            model[list]!.unshift(e);
          } else if (kind === 'remove') {
            l.remove(e);
            unlink(e);
          } else {
            l.rotateToTail(e);
            const m = model.find((x) => x.includes(e));
            if (m) {
              m.splice(m.indexOf(e), 1);
              m.push(e);
            }
          }
        }
        for (let list = 0; list < 3; list++) expect(l.toArray(list)).toEqual(model[list]);
      }),
    );
  });
});

describe('IpiRings', () => {
  it('delivers each pair FIFO in order and keeps pairs apart', () => {
    const r = new IpiRings(3, 16);
    r.push(0, 1, 4, 10);
    r.push(0, 1, 5, 11);
    r.push(2, 1, 0, 12);
    expect(r.count(0, 1)).toBe(2);
    expect(r.count(2, 1)).toBe(1);
    expect(r.toArray(0, 1)).toEqual([[4, 10], [5, 11]]);
    expect(r.shift(0, 1)).toBe(true);
    expect([r.lastFunc, r.lastArg]).toEqual([4, 10]);
    expect(r.shift(0, 1)).toBe(true);
    expect([r.lastFunc, r.lastArg]).toEqual([5, 11]);
    expect(r.shift(0, 1)).toBe(false);
    expect(r.count(2, 1)).toBe(1);
  });

  it('matches an array queue across many wrap-arounds', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 50, maxLength: 300 }), (pushes) => {
        const r = new IpiRings(2, 16);
        const model: number[] = [];
        let next = 0;
        for (const push of pushes) {
          if (push && model.length < 16) {
            r.push(1, 0, next % 6, next);
            model.push(next++);
          } else if (!push) {
            expect(r.shift(1, 0)).toBe(model.length > 0);
            if (model.length > 0) expect(r.lastArg).toBe(model.shift());
          }
          expect(r.count(1, 0)).toBe(model.length);
        }
        expect(r.toArray(1, 0).map(([, arg]) => arg)).toEqual(model);
      }),
    );
  });

  it('throws when a FIFO overflows', () => {
    const r = new IpiRings(2, 16);
    for (let i = 0; i < 16; i++) r.push(0, 1, 0, i);
    expect(() => r.push(0, 1, 0, 16)).toThrow(/overflow/);
  });
});

describe('ThreadBitsets', () => {
  it('returns the lowest member and members in order', () => {
    const s = new ThreadBitsets(2, 256);
    s.add(1, 200);
    s.add(1, 33);
    s.add(1, 31);
    s.add(0, 7);
    expect(s.lowest(1)).toBe(31);
    expect(s.toArray(1)).toEqual([31, 33, 200]);
    s.remove(1, 31);
    expect(s.lowest(1)).toBe(33);
    expect(s.has(1, 200)).toBe(true);
    expect(s.toArray(0)).toEqual([7]);
    s.remove(0, 7);
    expect(s.isEmpty(0)).toBe(true);
    expect(s.lowest(0)).toBe(NIL);
  });
});

describe('FrameStore', () => {
  it('reverses an unwound segment so the innermost frame is on top', () => {
    const f = new FrameStore(4);
    f.push(2, FN.lwkt_wait_free, ST.none, 9, 0, 0, null);
    const base = f.depth[2]!;
    f.push(2, FN.lwkt_switch, ST.switch, 0, 0, 0, null);
    f.push(2, FN.lwkt_yield, ST.switch, 0, 0, 0, null);
    f.reverseFrom(2, base);
    expect(f.toFrames(2)).toEqual([
      { fn: 'lwkt_switch', stage: 'switch' },
      { fn: 'lwkt_yield', stage: 'switch' },
      { fn: 'lwkt_wait_free', td: 9 },
    ]);
  });

  it('grows past its initial depth without losing frames', () => {
    const f = new FrameStore(3);
    f.push(0, FN.intr, ST.none, 100, 0, 0, null);
    for (let i = 0; i < 70; i++) f.push(1, FN.lwkt_gettoken, ST.spin, i, 0, 0, null);
    expect(f.depth[1]).toBe(70);
    const frames = f.toFrames(1);
    expect(frames[0]).toEqual({ fn: 'lwkt_gettoken', stage: 'spin', ref: 69 });
    expect(frames[69]).toEqual({ fn: 'lwkt_gettoken', stage: 'spin', ref: 0 });
    expect(f.toFrames(0)).toEqual([{ fn: 'intr', td: 100 }]);
  });

  it('renders null fields and bare step frames', () => {
    const f = new FrameStore(1);
    f.push(0, FN.lwkt_schedule, ST.none, 1, -1, 0, null);
    f.push(0, FN.lwkt_block, ST.loop, 2, 5, 7, null);
    f.push(0, FN.lwkt_create, ST.alloc, -1, 0x2000, 1, 'intr');
    expect(f.toFrames(0)).toEqual([
      { fn: 'lwkt_create', stage: 'alloc', td: null, tdflags: 0x2000, preemptable: true, comm: 'intr' },
      { fn: 'lwkt_block', stage: 'loop', w: 2, wmesg: null, gen: 5, ilock: 7 },
      { fn: 'lwkt_schedule', mygd: 1, wref: null },
    ]);
  });
});
