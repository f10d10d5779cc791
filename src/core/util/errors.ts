/** An error whose message is meant for the user as is (no stack trace needed). */
export class SiftError extends Error {
  constructor(
    message: string,
    readonly code: SiftErrorCode = 'general',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SiftError';
  }
}

export type SiftErrorCode =
  | 'general'
  | 'bad-input'
  | 'index-corrupt'
  | 'index-locked'
  /** A reader's shard was replaced by a newer commit while it read: open the index again and retry. */
  | 'index-changed'
  | 'io'
  | 'model-unavailable'
  | 'aborted';

export function isAbortError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'AbortError' || (err instanceof SiftError && err.code === 'aborted'))
  );
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const err = new SiftError('Cancelled.', 'aborted');
    err.name = 'AbortError';
    throw err;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
