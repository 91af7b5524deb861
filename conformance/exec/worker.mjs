// Entry of the exec transport worker. A worker thread does not inherit the
// TypeScript loader of its parent (tsx or vitest), so it registers tsx itself
// before loading worker.ts.
import { register } from 'tsx/esm/api';

register();
await import(new URL('./worker.ts', import.meta.url).href);
