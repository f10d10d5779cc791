/**
 * Cooperative time slicing for long loops on a thread that must stay responsive (the extension
 * host's): call `due()` (cheap) in the loop and `await pause()` when it says so. The loop then
 * never holds the event loop for much longer than `budgetMs`.
 */
export class TimeSlicer {
  private start = performance.now();

  constructor(private readonly budgetMs = 10) {}

  due(): boolean {
    return performance.now() - this.start >= this.budgetMs;
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }

  /** `pause()` when due. */
  async tick(): Promise<void> {
    if (this.due()) await this.pause();
  }
}
