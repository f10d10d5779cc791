/** Row-major mean over the unmasked positions of [batch, seq, dim] hidden states, then L2 norm. */
export function meanPoolNormalized(hidden: Float32Array, dims: number[], mask: BigInt64Array): Float32Array {
  const [batch, seq, dim] = dims as [number, number, number];
  const out = new Float32Array(batch * dim);
  const sum = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    sum.fill(0);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (mask[b * seq + s] === 0n) continue;
      count++;
      // Four columns per step: this runs on the inference worker's thread between model runs, so
      // it adds to every batch's time (about a third less than one column per step).
      let row = (b * seq + s) * dim;
      let d = 0;
      for (; d + 4 <= dim; d += 4, row += 4) {
        sum[d] += hidden[row]!;
        sum[d + 1] += hidden[row + 1]!;
        sum[d + 2] += hidden[row + 2]!;
        sum[d + 3] += hidden[row + 3]!;
      }
      for (; d < dim; d++, row++) sum[d] += hidden[row]!;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = sum[d]! / Math.max(count, 1);
      sum[d] = v;
      norm += v * v;
    }
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dim; d++) out[b * dim + d] = sum[d]! * scale;
  }
  return out;
}
