// Writes the JSON Schema of every entry of `jsonSchemas` (spec/schema.ts) to
// spec/schema/<name>.schema.json, so that implementations in other languages
// can validate steps, results, states and traces without TypeScript.
// Run it with `npm run schema` after any change to spec/schema.ts; the test
// spec/test/schema.test.ts fails while the files on disk are out of date.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jsonSchemas } from './json-schemas.js';
import { SCHEMA_VERSION } from './schema.js';

/** TypeBox 0.34 emits schemas that use draft-07 keywords only. */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

export const SCHEMA_DIR = fileURLToPath(new URL('./schema/', import.meta.url));

export function schemaId(name: string): string {
  return `https://lwkt-conformance.invalid/schema/${name}/v${SCHEMA_VERSION}`;
}

export function schemaFileName(name: string): string {
  return `${name}.schema.json`;
}

// Keywords whose members are named subschemas: their order is the declaration
// order in spec/schema.ts, which keeps the fields of a type in reading order.
const NAMED_MEMBER_KEYWORDS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);

/**
 * Copies a schema as plain JSON with keywords in alphabetical order, so the
 * output does not depend on the order in which TypeBox sets its keys. Symbol
 * keys (TypeBox's Kind) are dropped, as JSON.stringify would.
 */
function canonical(value: unknown, keepOrder = false): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item));
  if (typeof value !== 'object' || value === null) return value;

  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  if (!keepOrder) keys.sort();

  const result: Record<string, unknown> = {};
  for (const key of keys) result[key] = canonical(record[key], !keepOrder && NAMED_MEMBER_KEYWORDS.has(key));
  return result;
}

/** Renders every schema file: file name to file text. */
export function renderSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(jsonSchemas)) {
    const document = {
      $schema: JSON_SCHEMA_DIALECT,
      $id: schemaId(name),
      ...(canonical(schema) as Record<string, unknown>),
    };
    files.set(schemaFileName(name), `${JSON.stringify(document, null, 2)}\n`);
  }
  return files;
}

/** Writes the schema files and removes generated files that no schema produces any more. */
export function writeSchemaFiles(dir = SCHEMA_DIR): string[] {
  const files = renderSchemaFiles();
  mkdirSync(dir, { recursive: true });

  for (const existing of readdirSync(dir)) {
    if (existing.endsWith('.schema.json') && !files.has(existing)) rmSync(join(dir, existing));
  }
  for (const [fileName, text] of files) writeFileSync(join(dir, fileName), text);
  return [...files.keys()];
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const written = writeSchemaFiles();
  console.log(`wrote ${written.length} schemas (version ${SCHEMA_VERSION}) to ${SCHEMA_DIR}: ${written.join(', ')}`);
}
