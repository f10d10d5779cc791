/** Row-major mean over the unmasked positions of [batch, seq, dim] hidden states, then L2 norm. */
export function meanPoolNormalized(hidden: Float32Array, dims: number[], mask: BigInt64Array): Float32Array {
  const [batch, seq, dim] = dims as [number, number, number];
  const out = new Float32Array(batch * dim);
  const sum = new Float64Array(dim);
  const rows = new Int32Array(seq);
  for (let b = 0; b < batch; b++) {
    let count = 0;
    for (let s = 0; s < seq; s++) if (mask[b * seq + s] !== 0n) rows[count++] = (b * seq + s) * dim;
    // Four columns at a time down the unmasked rows, summed in registers: this runs on the inference
    // worker's thread between model runs, so it adds to every batch's time (less than half the time
    // of adding each row into an array of sums).
    let d = 0;
    for (; d + 4 <= dim; d += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < count; k++) {
        const r = rows[k]! + d;
        a0 += hidden[r]!;
        a1 += hidden[r + 1]!;
        a2 += hidden[r + 2]!;
        a3 += hidden[r + 3]!;
      }
      sum[d] = a0;
      sum[d + 1] = a1;
      sum[d + 2] = a2;
      sum[d + 3] = a3;
    }
    for (; d < dim; d++) {
      let a = 0;
      for (let k = 0; k < count; k++) a += hidden[rows[k]! + d]!;
      sum[d] = a;
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
