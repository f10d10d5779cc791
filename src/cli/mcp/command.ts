import { Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { errorMessage } from '../../core/util/errors';
import { startWorker } from '../engine';
import { termSafe } from '../format';
import { resolveRoot } from '../indexCommand';
import { createMcpServer } from './server';
import { type McpOptions, McpService } from './service';

/**
 * `sift mcp [DIR…]`: a Model Context Protocol server on stdio for agents. stdout carries only the
 * protocol; everything else (logs, and anything a library prints) goes to stderr. Runs until the
 * client closes stdin (or SIGINT/SIGTERM), then cancels background indexing (what it committed is
 * kept) and exits.
 */
export async function runMcpCommand(dirs: string[], options: McpOptions): Promise<number> {
  const protocolOut = claimStdout();
  const log = (m: string) => void process.stderr.write(`sift mcp: ${termSafe(m)}\n`);
  const roots: string[] = [];
  for (const dir of dirs.length ? dirs : ['.']) {
    const root = resolveRoot(dir);
    if (!root) return 2;
    if (!roots.includes(root)) roots.push(root);
  }
  if (options.indexDir && roots.length > 1) {
    log('--index-dir names the index of one folder; with several folders, leave it out (indexes go under SIFT_HOME, default ~/.cache/sift).');
    return 2;
  }
  const client = await startWorker(options);
  const service = new McpService(roots, client, options, log);
  const server = createMcpServer(service, process.env.SIFT_VERSION ?? '0.1.0');
  const transport = new StdioServerTransport(process.stdin, protocolOut);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  transport.onclose = finish;
  process.stdin.once('end', finish);
  process.stdin.once('close', finish);
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  try {
    await server.connect(transport);
    service.warmUp();
    log(`serving ${roots.join(', ')} (tools: search_code, read_range, index_status${service.llm ? ', ask' : ''})`);
    await finished;
  } catch (err) {
    log(errorMessage(err));
    return 1;
  } finally {
    await service.dispose().catch((err: unknown) => log(`shutting down: ${errorMessage(err)}`));
    await server.close().catch(() => undefined);
    await client.dispose();
    // Nothing must keep a server whose client has gone alive (a library's timer or handle).
    setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  }
  return 0;
}

/**
 * Keeps stdout for the protocol: returns a stream onto it for the transport, and sends every other
 * write to `process.stdout` (console.log in a library, a worker thread's output) to stderr.
 */
function claimStdout(): Writable {
  const stdout = process.stdout;
  const write = stdout.write.bind(stdout) as (chunk: unknown, cb: (err?: Error | null) => void) => boolean;
  const protocol = new Writable({
    write(chunk, _encoding, callback) {
      write(chunk, callback);
    },
  });
  stdout.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) =>
    (process.stderr.write as (c: unknown, e?: unknown, f?: unknown) => boolean)(chunk, encoding, cb)) as typeof stdout.write;
  return protocol;
}
