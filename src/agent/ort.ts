/**
 * The agent's onnxruntime side (placeholder until the patch lands: recognises nothing, patches nothing).
 */
import type { AgentHost } from './types.ts';

export function isOrtApi(_x: unknown): boolean {
  return false;
}

export class OrtPatch {
  constructor(_ort: unknown, _host: AgentHost) {}
  restore(): void {}
}
