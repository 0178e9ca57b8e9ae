import { writeFileSync, mkdirSync } from 'node:fs';
import type { ModelCard } from '../card.ts';
import { parseModelCard } from '../card.ts';

const NSFW = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
const COCO = ['person','bicycle','car','motorcycle','airplane','bus','train','truck','boat','traffic light','fire hydrant','stop sign','parking meter','bench','bird','cat','dog','horse','sheep','cow','elephant','bear','zebra','giraffe','backpack','umbrella','handbag','tie','suitcase','frisbee','skis','snowboard','sports ball','kite','baseball bat','baseball glove','skateboard','surfboard','tennis racket','bottle','wine glass','cup','fork','knife','spoon','bowl','banana','apple','sandwich','orange','broccoli','carrot','hot dog','pizza','donut','cake','chair','couch','potted plant','bed','dining table','toilet','tv','laptop','mouse','remote','keyboard','cell phone','microwave','oven','toaster','sink','refrigerator','book','clock','vase','scissors','teddy bear','hair drier','toothbrush'];
const MOVENET = ['nose','leftEye','rightEye','leftEar','rightEar','leftShoulder','rightShoulder','leftElbow','rightElbow','leftWrist','rightWrist','leftHip','rightHip','leftKnee','rightKnee','leftAnkle','rightAnkle'];
const EMOTION = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
const HAND = ['hand', 'fist', 'pinch', 'point', 'face', 'tip', 'pinchtip'];

const TF_RESIZE = { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false } as const;
const BROWSER = { exif: 'apply', alpha: 'ignore' } as const;

function nsfw(name: string, dir: string, format: 'tfjs-layers' | 'tfjs-graph', size: number, inputName: string, outputName: string, what: string): ModelCard {
  return {
    cardVersion: 1,
    name,
    description: `nsfwjs@4.3.0 ${what}: 5-way image classifier (Drawing, Hentai, Neutral, Porn, Sexy) with uint8-quantized weights. Pre-processing as nsfwjs NSFWJS.infer() does it (node_modules/nsfwjs/dist/esm/core.js); class order from dist/esm/nsfw_classes.js.`,
    source: { package: 'nsfwjs', version: '4.3.0', path: `dist/models/${dir}`, license: 'MIT' },
    format,
    modelFile: 'model.json',
    execution: 'sync',
    inputs: [{
      name: inputName,
      shape: [null, size, size, 3],
      dtype: 'float32',
      kind: 'image',
      preprocess: {
        width: size, height: size,
        resize: { method: 'bilinear', alignCorners: true, halfPixelCenters: false, antialias: false },
        fit: 'stretch', channels: 'rgb', layout: 'nhwc',
        scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1],
        dtype: 'float32', ...BROWSER,
      },
      notes: `nsfwjs infer(): tf.browser.fromPixels(img) (RGB, alpha dropped), .toFloat().div(255), then tf.image.resizeBilinear(x, [${size}, ${size}], alignCorners = true) only when the image is not already ${size}x${size}, reshape to [1, ${size}, ${size}, 3]. nsfwjs divides before resizing; both steps are linear, so the order changes only float rounding.`,
    }],
    outputs: [{
      name: outputName,
      shape: [null, 5],
      dtype: 'float32',
      meaning: 'classification',
      labels: NSFW,
      decoding: 'Softmax probabilities (they sum to 1), index i is labels[i] (nsfwjs NSFW_CLASSES). nsfwjs classify() sorts them and returns the top k {className, probability}.',
    }],
  };
}

const human = (file: string) => ({ package: '@vladmandic/human', version: '3.3.6', path: `models/${file}.json`, license: 'MIT' });

const cards: ModelCard[] = [
  nsfw('nsfw-mobilenet-v2', 'mobilenet_v2', 'tfjs-layers', 224, 'input_1', 'dense_3', 'MobileNetV2 (Keras LayersModel, the package default "MobileNetV2")'),
  nsfw('nsfw-mobilenet-v2-mid', 'mobilenet_v2_mid', 'tfjs-graph', 224, 'input', 'Identity', 'MobileNetV2Mid (TF-Hub MobileNetV2 graph model, nsfwjs option type "graph")'),
  nsfw('nsfw-inception-v3', 'inception_v3', 'tfjs-layers', 299, 'input_1', 'dense_3', 'InceptionV3 (Keras LayersModel, nsfwjs option size 299)'),
  {
    cardVersion: 1,
    name: 'blazeface',
    description: 'MediaPipe BlazeFace short-range face detector (896 anchors: 512 at stride 16, 384 at stride 32), float32 weights, as used by @vladmandic/human@3.3.6 src/face/blazeface.ts (pre-processing) and src/face/facemeshutil.ts (anchors).',
    source: human('blazeface'),
    format: 'tfjs-graph',
    modelFile: 'model.json',
    execution: 'sync',
    inputs: [{
      name: 'input', shape: [1, 256, 256, 3], dtype: 'float32', kind: 'image',
      preprocess: {
        width: 256, height: 256, resize: TF_RESIZE, fit: 'stretch', channels: 'rgb', layout: 'nhwc',
        scale: 1, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], dtype: 'float32', ...BROWSER,
      },
      notes: 'human getBoxes(): the whole frame (RGB float 0..255, alpha stripped by src/image/image.ts) -> tf.image.resizeBilinear(x, [256, 256]) (default flags) -> div 127.5 -> sub 1, i.e. [-1, 1]. With config.face.detector.square (off by default) the frame is first zero-padded to a square.',
    }],
    outputs: [
      { name: 'Identity_3', shape: [1, 384, 16], dtype: 'float32', meaning: 'detection', decoding: 'Regressors for the 384 stride-32 anchors (8x8 grid x 6): [dx, dy, w, h, then 6 keypoints as (x, y)], in 256-input pixels; box centre = anchor centre + (dx, dy), keypoints are offsets from the anchor centre. human concatenates [scores | regressors] to 17 columns, stride-16 rows first, then stride-32 rows.' },
      { name: 'Identity', shape: [1, 512, 1], dtype: 'float32', meaning: 'detection', decoding: 'Face score logits for the 512 stride-16 anchors (16x16 grid x 2, anchor centre = 16 * (cell + 0.5)); probability = sigmoid(logit). human keeps NMS survivors (IoU 0.1, max 1 face) with score > 0.2.' },
      { name: 'Identity_1', shape: [1, 384, 1], dtype: 'float32', meaning: 'detection', decoding: 'Face score logits for the 384 stride-32 anchors (8x8 grid x 6, anchor centre = 32 * (cell + 0.5)); probability = sigmoid(logit).' },
      { name: 'Identity_2', shape: [1, 512, 16], dtype: 'float32', meaning: 'detection', decoding: 'Regressors for the 512 stride-16 anchors: [dx, dy, w, h, then 6 keypoints as (x, y)] in 256-input pixels, relative to the anchor centre (see Identity_3).' },
    ],
  },
  {
    cardVersion: 1,
    name: 'centernet',
    description: 'MB3-CenterNet COCO-80 object detector (github.com/610265158/mobilenetv3_centernet), float16-quantized weights, as used by @vladmandic/human@3.3.6 src/object/centernet.ts; labels from src/object/labels.ts. Top-100 decoding (TopKV2) is inside the graph.',
    source: human('centernet'),
    format: 'tfjs-graph',
    modelFile: 'model.json',
    execution: 'sync',
    inputs: [{
      name: 'tower_0/images', shape: [1, 512, 512, 3], dtype: 'float32', kind: 'image',
      preprocess: {
        width: 512, height: 512, resize: TF_RESIZE, fit: 'stretch', channels: 'rgb', layout: 'nhwc',
        scale: 1, mean: [0, 0, 0], std: [1, 1, 1], dtype: 'float32', ...BROWSER,
      },
      notes: 'human predict(): tf.image.resizeBilinear(frame, [512, 512]) (default flags) on the RGB float 0..255 frame, no normalisation; the size is read from the model signature.',
    }],
    outputs: [
      { name: 'tower_0/wh', shape: [1, 128, 128, 4], dtype: 'float32', meaning: 'regression', decoding: 'Per-cell box regression head at stride 4 (128x128 cells for the 512 input), consumed inside the graph to build tower_0/detections; human does not read it.' },
      { name: 'tower_0/keypoints', shape: [1, 128, 128, 80], dtype: 'float32', meaning: 'detection', labels: COCO, decoding: 'Per-class centre heat-map at stride 4, one channel per COCO class in labels order; consumed inside the graph (max-pool + top-k) to build tower_0/detections; human does not read it.' },
      { name: 'tower_0/detections', shape: [1, 100, 6], dtype: 'float32', meaning: 'detection', labels: COCO, decoding: '100 rows of [x1, y1, x2, y2, score, class]: corners in 512-input pixels (human divides by 512 for 0..1 and scales to the frame), score 0..1, class = 0-based index into labels (rows with NaN class are skipped). human runs only this output (execute(x, ["tower_0/detections"])) and applies NMS (IoU 0.4, score > 0.2, max 10).' },
    ],
  },
  {
    cardVersion: 1,
    name: 'movenet-lightning',
    description: 'MoveNet SinglePose Lightning v4 (tfhub.dev/google/movenet/singlepose/lightning/4), 17 COCO body keypoints, float16-quantized weights, as used by @vladmandic/human@3.3.6 src/body/movenet.ts with padding/resizing in src/body/movenetfix.ts and keypoint names in src/body/movenetcoords.ts. The graph normalises the int32 pixels itself.',
    source: human('movenet-lightning'),
    format: 'tfjs-graph',
    modelFile: 'model.json',
    execution: 'sync',
    inputs: [{
      name: 'input', shape: [1, 192, 192, 3], dtype: 'int32', kind: 'image',
      preprocess: {
        width: 192, height: 192, resize: TF_RESIZE, fit: 'letterbox', channels: 'rgb', layout: 'nhwc',
        scale: 1, mean: [0, 0, 0], std: [1, 1, 1], dtype: 'int32', ...BROWSER,
      },
      notes: 'human padInput(): zero-pad (black) the short side to a square, Math.trunc(diff / 2) on each side (centred; an odd difference leaves the square one pixel short), tf.image.resizeBilinear(x, [192, 192]) (default flags), then tf.cast(x, "int32"), which truncates toward zero (no rounding).',
    }],
    outputs: [{
      name: 'Identity', shape: [1, 1, 17, 3], dtype: 'float32', meaning: 'keypoints', labels: MOVENET,
      decoding: 'For each of the 17 keypoints (labels order): [y, x, score], y and x normalised 0..1 over the square (letterboxed) 192x192 input, score 0..1. human keeps score > 0.3, swaps to (x, y) and undoes the padding (movenetfix.ts rescaleBody).',
    }],
  },
  {
    cardVersion: 1,
    name: 'emotion',
    description: 'Facial-expression classifier on a 64x64 grayscale face crop (github.com/oarriaga/face_classification mini-Xception), float32 weights, as used by @vladmandic/human@3.3.6 src/gear/emotion.ts (grayscale weights in src/tfjs/constants.ts). The input image is the face crop, not the whole frame.',
    source: human('emotion'),
    format: 'tfjs-graph',
    modelFile: 'model.json',
    execution: 'sync',
    inputs: [{
      name: 'input_1', shape: [null, 64, 64, 1], dtype: 'float32', kind: 'image',
      preprocess: {
        width: 64, height: 64, resize: TF_RESIZE, fit: 'stretch', channels: 'grayscale', layout: 'nhwc',
        scale: 1 / 255, mean: [0.5], std: [0.5], dtype: 'float32', ...BROWSER,
        grayWeights: [0.2989, 0.587, 0.114],
      },
      notes: 'human: the face crop arrives already divided by 255 (face/facemeshutil.ts cutAndResize), emotion predict() does tf.image.resizeBilinear(x, [64, 64], false), gray = sum over channels of x * [0.2989, 0.5870, 0.1140], then (gray - 0.5) * 2, i.e. [-1, 1].',
    }],
    outputs: [{
      name: 'Identity', shape: [null, 7], dtype: 'float32', meaning: 'classification', labels: EMOTION,
      decoding: 'Softmax probabilities (the graph ends in Softmax), index i is labels[i]; this label order is the one human uses for 1-channel emotion models. human reports classes with probability > 0.1, capped at 0.99.',
    }],
  },
  {
    cardVersion: 1,
    name: 'handtrack',
    description: 'Hand detector (github.com/victordibia/handtracking; TF Object Detection API SSD, 7 classes) with uint8-quantized weights, as used by @vladmandic/human@3.3.6 src/hand/handtrack.ts. The graph resizes to 320x320 and normalises internally, then decodes and runs NMS inside a while loop: it needs executeAsync. Output names map to the TF OD API signature in alphabetical order (checked against the graph).',
    source: human('handtrack'),
    format: 'tfjs-graph',
    modelFile: 'model.json',
    execution: 'async',
    inputs: [{
      name: 'input_tensor', shape: [1, null, null, 3], dtype: 'uint8', kind: 'image',
      preprocess: {
        width: 320, height: 320, resize: TF_RESIZE, fit: 'stretch', channels: 'rgb', layout: 'nhwc',
        scale: 1, mean: [0, 0, 0], std: [1, 1, 1], dtype: 'int32', ...BROWSER,
      },
      notes: 'The model accepts any size (it resizes to 320x320 itself, bilinear, alignCorners = false); 320x320 is its native size and what this card feeds. human detectHands() instead resizes the frame to height = min(round(H / 8) * 8, 512), width = round(height * W / H / 8) * 8 (default flags) and then tf.cast(x, "int32") (truncation); TF.js holds the uint8 input as int32.',
    }],
    outputs: [
      { name: 'Identity_2', shape: [1, 100], dtype: 'float32', meaning: 'detection', labels: HAND, decoding: 'detection_classes: 1-based class id of each of the 100 post-NMS detections (id k is labels[k - 1]).' },
      { name: 'Identity_4', shape: [1, 100], dtype: 'float32', meaning: 'detection', decoding: 'detection_scores: score 0..1 of each post-NMS detection, sorted descending.' },
      { name: 'Identity_6', shape: [1, 12804, 4], dtype: 'float32', meaning: 'detection', decoding: 'raw_detection_boxes: decoded boxes of all 12804 anchors before NMS, [ymin, xmin, ymax, xmax] normalised 0..1. human reads the same tensor before the squeeze (node StatefulPartitionedCall/Postprocessor/ExpandDims_1, [1, 12804, 1, 4]).' },
      { name: 'Identity_1', shape: [1, 100, 4], dtype: 'float32', meaning: 'detection', decoding: 'detection_boxes: [ymin, xmin, ymax, xmax] normalised 0..1 for the 100 post-NMS detections.' },
      { name: 'Identity_3', shape: [1, 100, 8], dtype: 'float32', meaning: 'detection', labels: ['background', ...HAND], decoding: 'detection_multiclass_scores: per-class sigmoid scores of the post-NMS detections, column 0 is background.' },
      { name: 'Identity_5', shape: [1], dtype: 'float32', meaning: 'other', decoding: 'num_detections: how many of the 100 rows are real detections.' },
      { name: 'Identity', shape: [1, 100], dtype: 'float32', meaning: 'other', decoding: 'detection_anchor_indices: the anchor (0..12803) each post-NMS detection came from.' },
      { name: 'Identity_7', shape: [1, 12804, 8], dtype: 'float32', meaning: 'detection', labels: ['background', ...HAND], decoding: 'raw_detection_scores: sigmoid class scores of all 12804 anchors before NMS, column 0 is background. human reads columns 1..7 of it (node StatefulPartitionedCall/Postprocessor/Slice), drops the "face" class, takes the max per anchor and runs its own NMS (IoU 0.2, score >= 0.5).' },
    ],
  },
];

function pretty(v: unknown, ind: string): string {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) {
      const one = `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
      if (one.length + ind.length <= 110) return one;
      const lines: string[] = [];
      let cur = '';
      for (const x of v.map((x) => JSON.stringify(x))) {
        if (cur && (cur.length + x.length + 2 + ind.length + 2) > 110) { lines.push(cur); cur = ''; }
        cur += cur ? ` ${x},` : `${x},`;
      }
      if (cur) lines.push(cur);
      const last = lines.length - 1;
      lines[last] = (lines[last] as string).replace(/,$/, '');
      return `[\n${lines.map((l) => `${ind}  ${l}`).join('\n')}\n${ind}]`;
    }
    return `[\n${v.map((x) => `${ind}  ${pretty(x, `${ind}  `)}`).join(',\n')}\n${ind}]`;
  }
  if (v !== null && typeof v === 'object') {
    const e = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{\n${e.map(([k, x]) => `${ind}  ${JSON.stringify(k)}: ${pretty(x, `${ind}  `)}`).join(',\n')}\n${ind}}`;
  }
  return JSON.stringify(v);
}

for (const c of cards) {
  parseModelCard(c, c.name);
  mkdirSync(`models/${c.name}`, { recursive: true });
  writeFileSync(`models/${c.name}/exray.json`, `${pretty(c, '')}\n`);
}
console.log('wrote', cards.length);
