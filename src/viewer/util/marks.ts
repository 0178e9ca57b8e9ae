/** User Timing names the page sets and the viewer benchmark (bench/viewer.ts) reads. */
export const SHELL_MARK = 'exray shell';
