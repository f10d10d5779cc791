/**
 * Indexing thread entry (bundled as dist/indexer.js), started by `indexWorkspaceInThread`. Runs
 * `indexWorkspace` here and posts its events and summary; chunking and embedding go straight to
 * the inference worker through the port it was given. Started in the 'chunker' role, the same
 * script is one of the threads a large pass reads and chunks files on (`chunkThreads.ts`).
 */
import { workerData } from 'node:worker_threads';
import { serveChunkThread } from './chunkThreads';
import { serveIndexThread } from './threadRunner';

if ((workerData as { role?: string } | null)?.role === 'chunker') serveChunkThread();
else void serveIndexThread({ chunkScript: __filename });
