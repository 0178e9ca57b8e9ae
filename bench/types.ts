/** One benchmark figure, as written to bench/results.json. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}
