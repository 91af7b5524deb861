export * from './constants.js';
export * from './schema.js';
export * from './catalogue.js';
export type * from './api.js';
