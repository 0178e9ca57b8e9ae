/**
 * Import this module (for its side effect) before onnxruntime-web:
 *
 *   import './instrument/ort/console-hook.ts';
 *   import * as ort from 'onnxruntime-web';
 *
 * onnxruntime-web binds `console.log` once and prints session profiles through that binding: the
 * JSEP bundle (`onnxruntime-web`, `onnxruntime-web/all` in 1.30) when the module is evaluated, the
 * native-WebGPU bundle (`onnxruntime-web/webgpu`) when its first session is created. The hook must be
 * in place before either, and stay: otherwise the profile goes to the real console and exray cannot
 * read kernel times (the trace then says so). See installOrtConsoleHook.
 */
import { installOrtConsoleHook } from './profilers.ts';

installOrtConsoleHook();
