/**
 * ONNX models as data: parse and re-serialise (model-file.ts), describe (describe.ts), and rewrite so
 * every node output is a graph output (expose-outputs.ts). Pure (no DOM, no Node): the browser
 * instrumenter uses it too. Importers take all three from here.
 */
export type { ModelProto, GraphProto, NodeProto, ValueInfoProto } from './proto/onnx-ml_pb.ts';
export * from './model-file.ts';
export * from './describe.ts';
export * from './expose-outputs.ts';
