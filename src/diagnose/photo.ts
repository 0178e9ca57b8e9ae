/**
 * A diagnosis against the original photo, in the steps Node (`src/reference/diagnose-node.ts`) and the
 * page (`src/viewer/state/photo-diagnosis.ts`) share, so both name the same causes for the same files:
 *
 *   photoSpec → fitEdgeInput (canonical pipeline + input search) → [reference capture on the canonical
 *   input: Node or a page worker] → diagnosisComparison → [single-node replays: Node only] →
 *   concludeDiagnosis (assertions + diagnose()).
 *
 * Pure: no DOM, no Node.
 */
import { compareTraces, type Comparison } from '../compare/index.ts';
import { ExrayInputError } from '../errors.ts';
import type { RgbaImage } from '../preprocess/image.ts';
import { preprocess } from '../preprocess/pipeline.ts';
import type { BlobData, InputSource, PreprocessSpec, Trace } from '../trace/types.ts';
import { runAssertions, type Assertion, type OutputInfo } from './assertions.ts';
import { attributeErrors, type NodeReplay } from './attribution.ts';
import { diagnose } from './diagnose.ts';
import { fitInput } from './input.ts';
import type { WeightStorage } from './node-evidence.ts';
import type { Diagnosis, InputFit } from './types.ts';

/** What a diagnosis needs of the model card (both fields optional). */
export interface CardInfo {
  inputs?: readonly { kind?: string; preprocess?: PreprocessSpec | undefined }[];
  outputs?: readonly OutputInfo[];
}

/** The pre-processing to diagnose against: the trace's recorded spec, else the card's image input. */
export function photoSpec(edge: Trace, card: CardInfo | null | undefined): PreprocessSpec | null {
  return edge.header.input.preprocess ?? card?.inputs?.find((i) => i.kind === 'image' && i.preprocess)?.preprocess ?? null;
}

/** What the input search needs of the edge trace: its input record and the input's values (a worker gets only these). */
export interface EdgeInputRecord {
  header: { input: Trace['header']['input'] };
  blobs: ReadonlyMap<string, BlobData>;
}

/** Warning when the photo is not the file the trace recorded (sha256), else null. */
export function photoMismatchWarning(edge: EdgeInputRecord, source: InputSource): string | null {
  const recorded = edge.header.input.source?.sha256;
  return recorded && source.sha256 && recorded !== source.sha256 ? `the photo (${source.fileName}) is not the file the edge trace recorded (sha256 differs)` : null;
}

/** Warning when the reference model is not the model the edge ran (sha256), else null. */
export function modelMismatchWarning(edge: Trace, reference: string, refSha256: string): string | null {
  const ran = edge.header.model.sha256;
  if (!ran || !refSha256 || ran === refSha256) return null;
  return `the reference model (${reference}, sha256 ${refSha256.slice(0, 12)}…) is not the model the edge ran (${ran.slice(0, 12)}…): node differences include the weight differences`;
}

/** How a TF.js model stores its weights (counts per stored dtype), from its weightsManifest. */
export function weightStorageOf(weightsManifest: readonly { weights: readonly { dtype: string; quantization?: { dtype: string } | undefined }[] }[]): WeightStorage {
  const dtypes: Record<string, number> = {};
  let total = 0;
  for (const g of weightsManifest) {
    for (const w of g.weights) {
      const d = w.quantization?.dtype ?? w.dtype;
      dtypes[d] = (dtypes[d] ?? 0) + 1;
      total++;
    }
  }
  return { dtypes, total };
}

export interface EdgeInputFit {
  /** The input search (null when it could not run: a warning says why). */
  input: InputFit | null;
  /** The canonical input: what the reference runs on. */
  canonical: { name: string; data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
  warnings: string[];
}

/**
 * Steps 1 + 2: the canonical pipeline on the photo and the input search against the edge's recorded
 * input. Throws ExrayInputError when the trace cannot be diagnosed against a photo.
 */
export function fitEdgeInput(edge: EdgeInputRecord, edgeFile: string, photo: { image: RgbaImage; source: InputSource }, spec: PreprocessSpec): EdgeInputFit {
  const warnings: string[] = [];
  const edgeInput = edge.header.input.tensors[0];
  if (!edgeInput) throw new ExrayInputError(edgeFile, 'the trace recorded no input tensor');
  if (edge.header.input.tensors.length !== 1) throw new ExrayInputError(edgeFile, `diagnosing against a photo needs a single-input model, the trace has ${edge.header.input.tensors.length} inputs`);
  const mismatch = photoMismatchWarning(edge, photo.source);
  if (mismatch) warnings.push(mismatch);
  const data = edge.blobs.get(edgeInput.blob?.id ?? '');
  if (!data) throw new ExrayInputError(edgeFile, `input "${edgeInput.name}" has no recorded values`);
  let input: InputFit | null = null;
  try {
    // The ICC profile of the photo, else the one the edge recorded (the edge read a tagged original, the
    // photo given here is a converted copy).
    const iccProfile = photo.source.iccProfile ?? edge.header.input.source?.iccProfile;
    input = fitInput({ image: photo.image, orientation: photo.source.exifOrientation, spec, edge: { data, shape: edgeInput.shape }, iccProfile, mimeType: photo.source.mimeType });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    warnings.push(`input search skipped: ${e.message}`);
  }
  const t = preprocess(photo.image, photo.source.exifOrientation, spec);
  return { input, canonical: { name: edgeInput.name, data: t.data, shape: t.shape, dtype: t.dtype }, warnings };
}

/** Step 4: edge vs reference, with the card's class labels (the options the CLI has always used). */
export function diagnosisComparison(edge: Trace, ref: Trace, card: CardInfo | null | undefined): Comparison {
  const labels = card?.outputs?.find((o) => o.labels)?.labels;
  return compareTraces(edge, ref, labels ? { labels } : {});
}

export interface ConcludeInput {
  edge: Trace;
  ref: Trace;
  comparison: Comparison;
  input: InputFit | null;
  spec: PreprocessSpec | null;
  card: CardInfo | null | undefined;
  /** Single-node replays (Node); none on the page. */
  replays?: readonly NodeReplay[];
  /** User assertions, run after the built-ins. */
  assertions?: readonly Assertion[];
  referenceBackend: string;
  edgeWeights?: WeightStorage | null;
  warnings?: readonly string[];
}

/** Steps 6 + 7: own/inherited split, assertions, causes. */
export function concludeDiagnosis(d: ConcludeInput): Diagnosis {
  const attributions = attributeErrors(d.comparison, d.edge, d.ref, d.replays ?? []);
  const assertions = runAssertions(d.edge, { spec: d.spec, outputs: [...(d.card?.outputs ?? [])], input: d.input, comparison: d.comparison }, d.assertions ?? []);
  return diagnose({
    edge: d.edge,
    ref: d.ref,
    comparison: d.comparison,
    input: d.input,
    attributions,
    assertions,
    referenceBackend: d.referenceBackend,
    edgeWeights: d.edgeWeights ?? null,
    warnings: d.warnings ?? [],
  });
}
