import { version_core } from '@tensorflow/tfjs-core';

export function tfjsVersion(): string {
  return version_core;
}
