/** User Timing names the page sets and the viewer benchmark (bench/viewer.ts) reads. */
export const SHELL_MARK = 'exray shell';
/** Where an opening's time goes (state/trace-files.ts): the files read in the trace readers, then replayed into runs and compared. */
export const OPEN_MEASURES = { read: 'exray open: read', compare: 'exray open: replay and compare' } as const;
