export * from './constants.js';
export * from './schema.js';
export * from './catalogue.js';
export * from './profiles.js';
export * from './protocol.js';
export type * from './api.js';
