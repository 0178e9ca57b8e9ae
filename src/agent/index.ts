/**
 * `exray/agent`: trace the inferences of your own app (TF.js, onnxruntime-web / -node) and stream them
 * to `exray serve`, or write them to a folder in Node.
 *
 *   import { attach } from 'exray/agent';
 *   const agent = await attach({ tf, server: 'http://192.168.1.20:4173', token: '…' });
 */
export { attach, type Agent, type AgentCounters, type AttachOptions } from './attach.ts';
export type { SamplingOptions } from './sampler.ts';
