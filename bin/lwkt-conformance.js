#!/usr/bin/env node
// Launcher of the lwkt-conformance CLI: registers tsx so that Node can load
// the TypeScript sources, then runs conformance/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../conformance/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
