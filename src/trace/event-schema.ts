/**
 * Validation of one untrusted TraceEvent that arrived as JSON (a socket, a journal). Pure.
 *
 * The same field schemas as the file reader (schema.ts), so an event accepted here folds into a trace
 * the file reader accepts, and `null` stats numbers (JSON has no NaN) come back as NaN. Blob events are
 * not JSON: they travel as binary frames (src/transport/wire.ts).
 */
import { z } from 'zod';
import { TraceFormatError } from './errors.ts';
import { capturePlanSchema, environmentSchema, formatPath, inputSchema, kernelSchema, modelSchema, namedTensorSchema, nodeSchema, runtimeSchema, timingSchema } from './schema.ts';
import { errorMap } from './schema-messages.ts';
import type { TraceEvent } from './types.ts';

const jsonEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('run-start'),
    id: z.string().min(1).max(200),
    createdAt: z.string().max(100),
    label: z.string().max(200).optional(),
    capture: z.enum(['timing', 'stats', 'tensors']),
    model: modelSchema,
    runtime: runtimeSchema,
    environment: environmentSchema,
    input: inputSchema,
    referenceFor: z.string().max(200).optional(),
    storagePrecision: z.enum(['float16', 'bfloat16']).optional(),
  }),
  z.looseObject({ type: z.literal('node'), node: nodeSchema }),
  z.looseObject({ type: z.literal('kernel'), kernel: kernelSchema }),
  z.looseObject({ type: z.literal('timing'), timing: timingSchema }),
  z.looseObject({ type: z.literal('progress'), phase: z.string().max(200), done: z.number(), total: z.number() }),
  z.looseObject({ type: z.literal('run-end'), outputs: z.array(namedTensorSchema), warnings: z.array(z.string()), capturePlan: capturePlanSchema.optional() }),
  z.looseObject({ type: z.literal('run-error'), message: z.string().max(10_000) }),
]);

export type JsonTraceEvent = Exclude<TraceEvent, { type: 'blob' }>;

/** Parse one JSON trace event; throws TraceFormatError(source, problem with its JSON path). */
export function parseJsonEvent(json: unknown, source: string): JsonTraceEvent {
  const r = jsonEventSchema.safeParse(json, { error: errorMap });
  if (!r.success) {
    const i = r.error.issues[0];
    throw new TraceFormatError(source, i ? `event${i.path.length ? `.${formatPath(i.path)}` : ''} ${i.message}` : 'invalid event');
  }
  return r.data as unknown as JsonTraceEvent;
}
