// The line protocol between the harness and an implementation running as a
// separate program (spec/protocol.md). Each TypeBox definition is also a JSON
// Schema, written to spec/schema/ by `npm run schema`.
import { Type, type Static } from '@sinclair/typebox';
import { AbstractState, Config, Step, StepResult } from './schema.js';

/** Version of the protocol, bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** Maximum length of a response line the harness reads, in bytes, newline excluded. */
export const PROTOCOL_LINE_MAX_BYTES = 8 * 1024 * 1024;

const RequestId = Type.Integer({ minimum: 1, description: 'request number, 1 for the first request of a process, then increasing by 1' });

export const Capabilities = Type.Object(
  {
    snapshot: Type.Boolean({ description: 'answers snapshot requests with the abstract state' }),
    panicIds: Type.Boolean({ description: 'names the catalogue id and site in panic results; false: only status "panic"' }),
    profiles: Type.Array(Type.String(), { description: 'profile names (spec/profiles.ts) the implementation claims' }),
    cpus: Type.Array(Type.Integer({ minimum: 1, maximum: 4 }), { description: 'supported CPU counts' }),
    smp: Type.Array(Type.Boolean(), { description: 'supported values of Config.smp' }),
    invariants: Type.Array(Type.Boolean(), { description: 'supported values of Config.invariants' }),
  },
  { additionalProperties: false },
);
export type Capabilities = Static<typeof Capabilities>;

export const HelloRequest = Type.Object(
  { id: RequestId, op: Type.Literal('hello'), protocol: Type.Literal(PROTOCOL_VERSION) },
  { additionalProperties: false },
);
export const ResetRequest = Type.Object(
  { id: RequestId, op: Type.Literal('reset'), config: Config },
  { additionalProperties: false },
);
export const StepRequest = Type.Object(
  { id: RequestId, op: Type.Literal('step'), step: Step },
  { additionalProperties: false },
);
export const SnapshotRequest = Type.Object(
  { id: RequestId, op: Type.Literal('snapshot') },
  { additionalProperties: false },
);
export const QuitRequest = Type.Object(
  { id: RequestId, op: Type.Literal('quit') },
  { additionalProperties: false },
);

export const Request = Type.Union([HelloRequest, ResetRequest, StepRequest, SnapshotRequest, QuitRequest]);
export type Request = Static<typeof Request>;

export const ErrorCode = Type.Union([
  Type.Literal('unsupported'),
  Type.Literal('invalid-request'),
  Type.Literal('internal'),
]);

export const ErrorResponse = Type.Object(
  {
    id: Type.Union([RequestId, Type.Null()], { description: 'id of the request, or null when the request line could not be parsed' }),
    ok: Type.Literal(false),
    error: Type.Object({ code: ErrorCode, message: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export const HelloResponse = Type.Object(
  {
    id: RequestId,
    ok: Type.Literal(true),
    protocol: Type.Integer({ description: 'protocol version the implementation speaks' }),
    name: Type.String({ minLength: 1, maxLength: 80 }),
    capabilities: Capabilities,
  },
  { additionalProperties: false },
);
export const ResetResponse = Type.Object(
  { id: RequestId, ok: Type.Literal(true) },
  { additionalProperties: false },
);
export const StepResponse = Type.Object(
  {
    id: RequestId,
    ok: Type.Literal(true),
    result: StepResult,
    running: Type.Array(Type.Integer({ minimum: 0 }), { description: 'gd_curthread of each cpu after the step' }),
  },
  { additionalProperties: false },
);
export const SnapshotResponse = Type.Object(
  { id: RequestId, ok: Type.Literal(true), state: AbstractState },
  { additionalProperties: false },
);
export const QuitResponse = ResetResponse;

export type HelloResponse = Static<typeof HelloResponse>;
export type StepResponse = Static<typeof StepResponse>;
export type SnapshotResponse = Static<typeof SnapshotResponse>;
export type ErrorResponse = Static<typeof ErrorResponse>;

/** JSON Schemas of the protocol, written to spec/schema/ with the others. */
export const protocolJsonSchemas = {
  'protocol-request': Request,
  'protocol-hello-response': HelloResponse,
  'protocol-step-response': StepResponse,
  'protocol-snapshot-response': SnapshotResponse,
  'protocol-ok-response': ResetResponse,
  'protocol-error-response': ErrorResponse,
};
