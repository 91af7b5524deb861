import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../constants.js';
import { jsonSchemas } from '../json-schemas.js';
import { JSON_SCHEMA_DIALECT, renderSchemaFiles, SCHEMA_DIR, schemaFileName, schemaId, writeSchemaFiles } from '../write-schemas.js';

const OUT_OF_DATE = 'spec/schema/ is out of date with spec/schema.ts; run `npm run schema` and keep the regenerated files';

function committedFiles(): string[] {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort();
}

describe('committed JSON schemas', () => {
  const rendered = renderSchemaFiles();

  it('exist for exactly the schemas of jsonSchemas', () => {
    expect(committedFiles(), OUT_OF_DATE).toEqual([...rendered.keys()].sort());
  });

  it.each([...rendered.entries()])('%s matches spec/schema.ts', (fileName, text) => {
    const committed = readFileSync(join(SCHEMA_DIR, fileName), 'utf8');
    expect(committed, OUT_OF_DATE).toBe(text);
  });
});

describe('rendered JSON schemas', () => {
  it.each(Object.keys(jsonSchemas))('%s carries $schema and a versioned $id', (name) => {
    const document = JSON.parse(renderSchemaFiles().get(schemaFileName(name)) ?? '{}') as Record<string, unknown>;

    expect(document['$schema']).toBe(JSON_SCHEMA_DIALECT);
    expect(document['$id']).toBe(`https://lwkt-conformance.invalid/schema/${name}/v${SCHEMA_VERSION}`);
    expect(schemaId(name)).toBe(document['$id']);
  });

  it('keep property declaration order', () => {
    const config = JSON.parse(renderSchemaFiles().get('config.schema.json') ?? '{}') as { properties: object };
    expect(Object.keys(config.properties)).toEqual(['ncpus', 'smp', 'invariants', 'untimelySwitch', 'panicOnCscount']);
  });

  it('equal the TypeBox schemas as JSON', () => {
    for (const [name, schema] of Object.entries(jsonSchemas)) {
      const document = JSON.parse(renderSchemaFiles().get(schemaFileName(name)) ?? '{}') as Record<string, unknown>;
      delete document['$schema'];
      delete document['$id'];

      expect(document, name).toEqual(JSON.parse(JSON.stringify(schema)));
    }
  });
});

describe('writeSchemaFiles', () => {
  it('writes every schema and removes stale ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwkt-schema-'));
    try {
      writeFileSync(join(dir, 'removed.schema.json'), '{}\n');
      writeFileSync(join(dir, 'notes.txt'), 'kept\n');

      const written = writeSchemaFiles(dir);

      expect(readdirSync(dir).sort()).toEqual([...written, 'notes.txt'].sort());
      for (const [fileName, text] of renderSchemaFiles()) expect(readFileSync(join(dir, fileName), 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
