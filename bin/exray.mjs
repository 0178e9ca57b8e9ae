#!/usr/bin/env node
// exray CLI entry: runs the TypeScript sources through tsx (no build step needed for the CLI).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
