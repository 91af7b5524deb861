// Frame types: the rest of a function whose thread was switched out, or is
// spinning, in the middle of a call (spec/semantics.md 2.4, spec/schema.ts
// FrameSchemas).
import type { Static } from '@sinclair/typebox';
import { FrameSchemas, type Frame, type FrameFn } from '../spec/schema.js';

export type FrameOf<F extends FrameFn> = Static<(typeof FrameSchemas)[F]>;

/** A frame with a rest of its own, as opposed to a bare step-call frame. */
export type TypedFrame = FrameOf<FrameFn>;

/** The frame of a step call without a frame type: its rest only returns. */
export type BareFrame = Exclude<Frame, TypedFrame>;

export function isTypedFrame(frame: Frame): frame is TypedFrame {
  return frame.fn in FrameSchemas;
}

/** True for a step call that has a frame type of its own. */
export function hasFrameType(call: string): call is FrameFn {
  return call in FrameSchemas;
}

/** Spin stages: the thread runs one loop iteration per `spin` step. */
export function isSpinStage(frame: Frame | undefined): boolean {
  if (frame === undefined || !isTypedFrame(frame)) return false;
  if (frame.fn === 'lwkt_acquire') return true;
  if (frame.fn === 'lwkt_gettoken' || frame.fn === 'lwkt_reltoken') return frame.stage === 'spin';
  return false;
}
