import type { DownloadProgress } from '../core/worker/protocol';
import { formatBytes } from '../core/util/format';
import type { Disposable } from './lifecycle';
import type { ProgressReport, WorkspacePort } from './ports';

interface OpenDownload {
  report?: (p: ProgressReport) => void;
  last?: string;
  done: () => void;
}

/**
 * Model downloads as cancellable notifications with bytes and percent, one per model. Cancelling
 * calls `onCancel` (a download cannot be aborted inside the worker: the owner stops the worker).
 */
export class DownloadNotices implements Disposable {
  private readonly open = new Map<string, OpenDownload>();

  constructor(
    private readonly withProgress: WorkspacePort['withProgress'],
    private readonly onCancel: (model: string) => void,
  ) {}

  onProgress(p: DownloadProgress): void {
    if (p.status === 'ready') return this.finish(p.model);
    if (p.status !== 'progress' || !p.total) return;
    let entry = this.open.get(p.model);
    if (!entry) {
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const created: OpenDownload = { done };
      entry = created;
      this.open.set(p.model, created);
      void this.withProgress(`Sift: downloading ${p.model}`, (report, signal) => {
        created.report = report;
        if (created.last) report({ message: created.last });
        signal.addEventListener('abort', () => {
          this.onCancel(p.model);
          this.finish(p.model);
        });
        return finished;
      });
    }
    entry.last = `${p.file}: ${formatBytes(p.loaded ?? 0)} of ${formatBytes(p.total)} (${Math.floor(p.percent ?? 0)}%)`;
    entry.report?.({ message: entry.last });
  }

  /** Closes the notification of `model`, or of every model. */
  finish(model?: string): void {
    for (const [key, entry] of this.open) {
      if (model && key !== model) continue;
      entry.done();
      this.open.delete(key);
    }
  }

  dispose(): void {
    this.finish();
  }
}
