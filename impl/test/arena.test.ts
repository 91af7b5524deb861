import { describe, expect, it } from 'vitest';
import { Arena, grownArray } from '../arena.js';
import { FrameStore, FN, ST } from '../frames.js';
import { IntrusiveLists, NIL } from '../lists.js';

describe('Arena', () => {
  it('hands out filled arrays that do not overlap', () => {
    const arena = new Arena(64);
    const a = arena.int32(4, NIL);
    const b = arena.float64(3, -1);
    const c = arena.uint8(5);
    expect([...a]).toEqual([-1, -1, -1, -1]);
    expect([...b]).toEqual([-1, -1, -1]);
    c.fill(7);
    expect([...a]).toEqual([-1, -1, -1, -1]);
    expect([...b]).toEqual([-1, -1, -1]);
  });

  it('starts a new buffer without aliasing the old arrays', () => {
    // 16-byte buffers: every second request needs a new one.
    const arena = new Arena(16);
    const arrays = [arena.int32(3, 1), arena.int32(3, 2), arena.float64(2, 3), arena.int16(5, 4), arena.uint32(2)];
    arrays[4]!.fill(5);
    expect(arrays.map((a) => [...a])).toEqual([[1, 1, 1], [2, 2, 2], [3, 3], [4, 4, 4, 4, 4], [5, 5]]);
    expect(arrays[0]!.buffer).not.toBe(arrays[1]!.buffer);
  });

  it('grows arrays keeping their elements and filling the rest', () => {
    const arena = new Arena(32);
    const a = arena.int32(2, 9);
    const g = arena.grownInt32(a, 5, NIL);
    expect([...g]).toEqual([9, 9, -1, -1, -1]);
    expect([...arena.grownFloat64(new Float64Array([1.5]), 3, -1)]).toEqual([1.5, -1, -1]);
    expect([...arena.grownUint8(new Uint8Array([1, 2]), 3)]).toEqual([1, 2, 0]);
    expect([...arena.grownInt16(new Int16Array([3]), 2, NIL)]).toEqual([3, -1]);
    expect(grownArray(['a'], 3, null)).toEqual(['a', null, null]);
  });
});

describe('growth of thread-indexed structures', () => {
  it('IntrusiveLists keeps its lists when it gains elements', () => {
    const arena = new Arena(64);
    const l = new IntrusiveLists(2, 1, arena);
    l.insertTail(0, 1);
    l.insertTail(0, 0);
    l.growElements(6, arena);
    l.insertHead(0, 5);
    expect(l.toArray(0)).toEqual([5, 1, 0]);
    expect(l.on[4]).toBe(NIL);
  });

  it('FrameStore keeps every thread frames when it gains threads', () => {
    const arena = new Arena(64);
    const f = new FrameStore(2, arena);
    f.push(1, FN.lwkt_block, ST.loop, 2, 5, 7, 'wmesg');
    f.growThreads(8, arena);
    f.push(7, FN.intr, ST.none, 3, 0, 0, null);
    expect(f.toFrames(1)).toEqual([{ fn: 'lwkt_block', stage: 'loop', w: 2, wmesg: 'wmesg', gen: 5, ilock: 7 }]);
    expect(f.toFrames(7)).toEqual([{ fn: 'intr', td: 3 }]);
    expect(f.bytesPerThread()).toBe(4 + 4 * 26);
  });
});
