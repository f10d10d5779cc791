/**
 * mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). The one generator behind every
 * random choice in tests, benchmarks and training scripts, so a run is replayed from its seed.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a test run: SIFT_TEST_SEED when set (to replay a failure), else `fallback`. */
export function testSeed(fallback: number): number {
  const v = Number(process.env.SIFT_TEST_SEED);
  return Number.isSafeInteger(v) ? v : fallback;
}
