/** The environment of exray's own TF.js instance (see environment-of.ts). */
import * as tf from '@tensorflow/tfjs-core';
import type { Environment } from '../../trace/types.ts';
import { collectEnvironmentOf } from './environment-of.ts';

/** Describe the current device and backend. `extra` lets the caller add what only it knows (threads). */
export function collectEnvironment(extra: Partial<Environment> = {}): Environment {
  return collectEnvironmentOf(tf, extra);
}
