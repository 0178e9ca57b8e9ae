/**
 * CTC greedy decoding (PaddleOCR's CTCLabelDecode): per time step take the most probable class, merge
 * repeats, drop the blank. Pure: the viewer decodes OCR output with it, tests and the CLI too.
 */

export interface CtcDecoded {
  text: string;
  /** Mean probability of the emitted characters (PaddleOCR's score); NaN when nothing was emitted. */
  confidence: number;
  /** The class emitted for each character of `text`. */
  classes: number[];
}

/**
 * PaddleOCR's class labels from its dictionary file (`ppocr_keys_v1.txt`: one character per line):
 * class 0 is the CTC blank, classes 1..n the dictionary's lines, class n+1 a space (PaddleOCR's
 * `use_space_char`). A final newline does not add an empty entry; `\r\n` line ends are accepted.
 */
export function paddleOcrLabels(dictionaryText: string, blankLabel = '<blank>'): string[] {
  const text = dictionaryText.replace(/\r?\n$/, '');
  const lines = text === '' ? [] : text.split(/\r?\n/);
  return [blankLabel, ...lines, ' '];
}

/**
 * Decode one sequence of class scores: `scores` holds `steps × labels.length` values, step-major (the
 * [T, C] slice of a [N, T, C] output). `labels[c]` is the text of class c; class `blank` emits nothing.
 */
export function ctcGreedyDecode(scores: ArrayLike<number>, labels: readonly string[], blank = 0): CtcDecoded {
  const C = labels.length;
  if (C === 0) throw new RangeError('ctcGreedyDecode: no labels');
  if (scores.length % C !== 0) throw new RangeError(`ctcGreedyDecode: ${scores.length} scores are not a whole number of steps of ${C} classes`);
  const steps = scores.length / C;
  let text = '';
  const classes: number[] = [];
  let sum = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = t * C;
    let best = 0;
    let bestScore = scores[base]!;
    for (let c = 1; c < C; c++) {
      const s = scores[base + c]!;
      if (s > bestScore) {
        best = c;
        bestScore = s;
      }
    }
    if (best !== blank && best !== prev) {
      text += labels[best];
      classes.push(best);
      sum += bestScore;
    }
    prev = best;
  }
  return { text, confidence: classes.length > 0 ? sum / classes.length : NaN, classes };
}

/**
 * Decode every sequence of a [N, T, C] (or [T, C]) output. Throws when the last dimension is not the
 * number of labels (a dictionary that does not belong to the model).
 */
export function ctcGreedyDecodeBatch(scores: ArrayLike<number>, shape: readonly number[], labels: readonly string[], blank = 0): CtcDecoded[] {
  if (shape.length < 2) throw new RangeError(`ctcGreedyDecodeBatch: expected [N, T, C] or [T, C], got [${shape.join(', ')}]`);
  const C = shape[shape.length - 1]!;
  const T = shape[shape.length - 2]!;
  if (C !== labels.length) throw new RangeError(`ctcGreedyDecodeBatch: the output has ${C} classes but there are ${labels.length} labels`);
  const N = shape.length === 2 ? 1 : shape.slice(0, -2).reduce((a, b) => a * b, 1);
  if (scores.length !== N * T * C) throw new RangeError(`ctcGreedyDecodeBatch: shape [${shape.join(', ')}] needs ${N * T * C} values, got ${scores.length}`);
  const out: CtcDecoded[] = [];
  for (let n = 0; n < N; n++) {
    const view = 'subarray' in scores ? (scores as Float32Array).subarray(n * T * C, (n + 1) * T * C) : Array.prototype.slice.call(scores, n * T * C, (n + 1) * T * C);
    out.push(ctcGreedyDecode(view, labels, blank));
  }
  return out;
}
