// Every schema published as a JSON Schema file under spec/schema/.
import type { TSchema } from '@sinclair/typebox';
import { protocolJsonSchemas } from './protocol.js';
import { jsonSchemas as stateJsonSchemas } from './schema.js';

export const jsonSchemas: Record<string, TSchema> = { ...stateJsonSchemas, ...protocolJsonSchemas };
