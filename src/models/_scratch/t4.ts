import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadTfjsModelFromDir } from '../load-node.ts';
await tf.setBackend('cpu');
async function img(f: string) {
  const { data, info } = await sharp(f).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32').toFloat();
}
const chelsea = await img('public/samples/chelsea.png');
const astro = await img('public/samples/astronaut.png');
console.log('chelsea', chelsea.shape, 'astro', astro.shape);
{
  const { model } = await loadTfjsModelFromDir('models/centernet', tf);
  const x = tf.image.resizeBilinear(chelsea as tf.Tensor3D, [512, 512]).expandDims(0);
  const det = (model as tf.GraphModel).execute(x, 'tower_0/detections') as tf.Tensor;
  const a = (await det.array()) as number[][][];
  console.log('centernet', a[0]!.slice(0, 3).map((r) => r.map((v) => +v.toFixed(2))));
}
{
  const { model } = await loadTfjsModelFromDir('models/movenet-lightning', tf);
  const [h, w] = astro.shape;
  const d = Math.trunc(Math.abs(w! - h!) / 2);
  const padded = tf.pad(astro, [[0, 0], [0, 0], [0, 0]]);
  const x = tf.image.resizeBilinear(padded as tf.Tensor3D, [192, 192]).cast('int32').expandDims(0);
  const y = (model as tf.GraphModel).execute(x) as tf.Tensor;
  const a = (await y.array()) as number[][][][];
  console.log('movenet', d, a[0]![0]!.slice(0, 6).map((r) => r.map((v) => +v.toFixed(2))));
}
{
  const { model } = await loadTfjsModelFromDir('models/handtrack', tf);
  const x = tf.image.resizeBilinear(astro as tf.Tensor3D, [320, 320]).cast('int32').expandDims(0);
  const names = ['Identity_2', 'Identity_4', 'Identity_1', 'Identity_5', 'Identity', 'Identity_3'];
  const ys = await (model as tf.GraphModel).executeAsync(x, names) as tf.Tensor[];
  for (const [i, y] of ys.entries()) console.log('hand', names[i], Array.from((await y.data()).slice(0, 8)).map((v) => +v.toFixed(3)));
}
{
  const { model } = await loadTfjsModelFromDir('models/blazeface', tf);
  const x = tf.image.resizeBilinear(astro as tf.Tensor3D, [256, 256]).div(127.5).sub(1).expandDims(0);
  const ys = (model as tf.GraphModel).execute(x, ['Identity', 'Identity_1']) as tf.Tensor[];
  for (const y of ys) { const s = tf.sigmoid(y); console.log('blaze max score', (await s.max().data())[0], 'argmax', (await s.flatten().argMax().data())[0]); }
}
