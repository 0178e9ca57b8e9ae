/** Cards for two @vladmandic/human@3.3.6 models, written from human's own pre-processing (src/face/). */
const source = (file: string) => ({ package: '@vladmandic/human', version: '3.3.6', path: `models/${file}`, license: 'MIT' });
/** human crops the face box and resizes it bilinear (tf.image.cropAndResize / resizeBilinear, no half-pixel centres). */
const preprocess = (size: number, scale: number) => ({
  width: size,
  height: size,
  resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false },
  fit: 'stretch',
  channels: 'rgb',
  layout: 'nhwc',
  scale,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  dtype: 'float32',
  exif: 'apply',
  alpha: 'ignore',
});

/** src/face/facemeshutil.ts cutAndResize: the crop to 192², / 255; outputs in 192-pixel coordinates. */
export const meshCard = {
  cardVersion: 1,
  name: 'facemesh',
  description: 'MediaPipe face mesh from @vladmandic/human@3.3.6 models/facemesh.json: 468 landmarks (x, y, z), face flag, 133 contour points.',
  source: source('facemesh.json'),
  format: 'tfjs-graph',
  modelFile: 'facemesh.json',
  execution: 'sync',
  inputs: [{ name: 'input_1', shape: [null, 192, 192, 3], dtype: 'float32', kind: 'image', preprocess: preprocess(192, 1 / 255) }],
  outputs: [
    { name: 'output_mesh', shape: [null, 1404], dtype: 'float32', meaning: 'keypoints', keypoints: { components: ['x', 'y', 'z'], units: 'pixels' } },
    { name: 'output_faceflag', shape: [null, 1], dtype: 'float32', meaning: 'regression' },
    { name: 'output_contours', shape: [null, 266], dtype: 'float32', meaning: 'keypoints', keypoints: { components: ['x', 'y'], units: 'pixels' } },
  ],
};

/** src/face/faceres.ts enhance: the face (0..1) resized bilinear to 224² and × 255, so 0..255 RGB. */
export const resCard = {
  ...meshCard,
  name: 'faceres',
  description: 'Face description from @vladmandic/human@3.3.6 models/faceres.json: gender (sigmoid), age (100-way softmax), 1024-d descriptor.',
  source: source('faceres.json'),
  modelFile: 'faceres.json',
  inputs: [{ name: 'input_1', shape: [null, 224, 224, 3], dtype: 'float32', kind: 'image', preprocess: preprocess(224, 1) }],
  outputs: [
    { name: 'gender_pred/Sigmoid:0', shape: [1, 1], dtype: 'float32', meaning: 'classification', activation: 'sigmoid' },
    { name: 'global_pooling/Mean', shape: [1, 1024], dtype: 'float32', meaning: 'embedding' },
    { name: 'age_pred/Softmax:0', shape: [1, 100], dtype: 'float32', meaning: 'classification', activation: 'softmax' },
  ],
};

