/**
 * Indexing thread entry (bundled as dist/indexer.js), started by `indexWorkspaceInThread`. Runs
 * `indexWorkspace` here and posts its events and summary; chunking and embedding go straight to
 * the inference worker through the port it was given.
 */
import { serveIndexThread } from './threadRunner';

void serveIndexThread();
