// Parsing and checking of command-line values. Every rejected value becomes
// an InputError whose message names the value and the fix.
import { CPUS_MAX, CPUS_MIN } from '../../spec/constants.js';
import { InputError } from '../run/errors.js';

export function parseWholeNumber(option: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new InputError(`${option} ${text} is not a whole number; use a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
  }
  if (value < min || value > max) {
    throw new InputError(`${option} ${text} is out of range; use a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
  }
  return value;
}

export function parseRate(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InputError(`${option} ${text} is invalid; use a fraction from 0 to 1, for example 0.03`);
  }
  return value;
}

export const parseCpus = (text: string): number => parseWholeNumber('--cpus', text, CPUS_MIN, CPUS_MAX);
