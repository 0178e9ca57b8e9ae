/** One colour per run, stable by position; the reference is grey. */
const COLORS = ['#1f6feb', '#e36209', '#8250df', '#1a7f37', '#cf222e', '#bf8700', '#0a7ea4', '#d63384'];

export function runColor(position: number, isReference = false): string {
  return isReference ? '#6e7781' : (COLORS[position % COLORS.length] ?? '#1f6feb');
}
