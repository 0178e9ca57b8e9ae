import * as tf from '@tensorflow/tfjs';
import { loadTfjsModelFromDir } from '../load-node.ts';
await tf.setBackend('cpu');
for (const name of (process.argv[2] ?? 'nsfw-mobilenet-v2,nsfw-mobilenet-v2-mid,blazeface,centernet,movenet-lightning,emotion,handtrack,nsfw-inception-v3').split(',')) {
  const t0 = performance.now();
  const { model, format } = await loadTfjsModelFromDir(`models/${name}`, tf);
  const t1 = performance.now();
  console.log('==', name, format, 'load', (t1-t0).toFixed(0));
  console.log(' inputs', JSON.stringify(model.inputs.map((i: any) => [i.name, i.shape, i.dtype])));
  console.log(' outputs', JSON.stringify(model.outputs.map((i: any) => [i.name, i.shape, i.dtype])));
  if (process.env.RUN) {
    const shp = (model.inputs[0] as any).shape.map((d: number|null, k: number) => d == null || d < 0 ? (k === 0 ? 1 : 320) : d);
    const x = tf.zeros(shp, (model.inputs[0] as any).dtype);
    const t2 = performance.now();
    let y: any;
    if (format === 'tfjs-graph') {
      try { y = (model as tf.GraphModel).execute(x); } catch (e) { console.log(' execute failed:', (e as Error).message); y = await (model as tf.GraphModel).executeAsync(x); }
    } else y = (model as tf.LayersModel).predict(x);
    const ys = Array.isArray(y) ? y : [y];
    for (const t of ys) await t.data();
    console.log(' run', (performance.now()-t2).toFixed(0), JSON.stringify(ys.map((t: any) => [t.shape, t.dtype])));
  }
}
