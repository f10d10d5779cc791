/**
 * Sift in VS Code's chat: the `#sift` language-model tool, the `@sift` participant, and (VS Code
 * 1.101+, detected at run time) the MCP server definition. Thin adapters: the logic is in
 * searchTool.ts and participant.ts, tested with fakes.
 */
import * as vscode from 'vscode';
import type { AskService } from './askService';
import { editorChatModel, limitsOf } from './editorModels';
import type { DisposableStore } from './lifecycle';
import { type ParticipantMetadata, PARTICIPANT_ID, type SourceLocation, answerInChat, followupsFor } from './participant';
import type { WorkspacePort } from './ports';
import { TOOL_NAME, invocationMessage, runSearchTool } from './searchTool';
import { fromVscodeModel, signalFor } from './vscodeLm';

export interface ChatApiDeps {
  asker: AskService;
  port: WorkspacePort;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
}

export function registerChatApi(root: DisposableStore, deps: ChatApiDeps): void {
  // Each entry point is optional: one the running VS Code refuses must never stop Sift starting.
  for (const [name, register] of [['language-model tool', registerTool], ['chat participant', registerParticipant], ['MCP server definition provider', registerMcpProvider]] as const) {
    try {
      register(root, deps);
    } catch (err) {
      deps.log.warn(`Sift: the ${name} is not available in this VS Code (${err instanceof Error ? err.message : String(err)}).`);
    }
  }
}

function registerTool(root: DisposableStore, { asker, port }: ChatApiDeps): void {
  const searcher = { isTrusted: () => port.isTrusted(), search: asker.search.bind(asker) };
  root.add(
    vscode.lm.registerTool<unknown>(TOOL_NAME, {
      prepareInvocation: (options) => ({ invocationMessage: invocationMessage(options.input) }),
      invoke: async (options, token) => {
        const { signal, dispose } = signalFor(token);
        try {
          const parts = await runSearchTool(searcher, options.input, signal);
          return new vscode.LanguageModelToolResult(parts.map((p) => new vscode.LanguageModelTextPart(p)));
        } finally {
          dispose();
        }
      },
    }),
  );
}

const location = (l: SourceLocation) => new vscode.Location(vscode.Uri.file(l.file), new vscode.Range(l.startLine - 1, 0, l.endLine - 1, Number.MAX_SAFE_INTEGER));

function registerParticipant(root: DisposableStore, { asker, port, extensionUri, log }: ChatApiDeps): void {
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, async (request, _context, response, token) => {
    const { signal, dispose } = signalFor(token);
    try {
      const model = editorChatModel(fromVscodeModel(request.model), limitsOf(port.readSettings(undefined)));
      return await answerInChat(
        asker,
        { prompt: request.prompt, command: request.command, model },
        {
          markdown: (t) => response.markdown(t),
          progress: (t) => response.progress(t),
          reference: (l) => response.reference(location(l)),
          anchor: (l, title) => response.anchor(location(l), title),
        },
        signal,
      );
    } catch (err) {
      // answerInChat does not throw; this is the adapter's own failure (e.g. a stream closed).
      log.error(`@sift failed: ${String(err)}`);
      return {};
    } finally {
      dispose();
    }
  });
  participant.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'sift.svg');
  participant.followupProvider = {
    provideFollowups: (result) => followupsFor(result.metadata as ParticipantMetadata | undefined),
  };
  root.add(participant);
}

/** What VS Code 1.101+ adds (absent from @types/vscode 1.100). */
interface McpApi {
  registerMcpServerDefinitionProvider(id: string, provider: { provideMcpServerDefinitions(): unknown[]; onDidChangeMcpServerDefinitions?: vscode.Event<void> }): vscode.Disposable;
}
type McpStdioCtor = new (label: string, command: string, args: string[], env?: Record<string, string>, version?: string) => unknown;

function mcpApi(): { api: McpApi; Stdio: McpStdioCtor } | undefined {
  const lm = vscode.lm as unknown as Partial<McpApi>;
  const Stdio = (vscode as unknown as { McpStdioServerDefinition?: McpStdioCtor }).McpStdioServerDefinition;
  return typeof lm.registerMcpServerDefinitionProvider === 'function' && typeof Stdio === 'function' ? { api: lm as McpApi, Stdio } : undefined;
}

/** `sift mcp <folder>` for each local folder of a trusted workspace; nothing on VS Code 1.100. */
function registerMcpProvider(root: DisposableStore, { port, extensionUri }: ChatApiDeps): void {
  const found = mcpApi();
  if (!found) return;
  const changed = root.add(new vscode.EventEmitter<void>());
  root.add(port.onDidChangeFolders(() => changed.fire()));
  root.add(port.onDidGrantTrust(() => changed.fire()));
  const cli = vscode.Uri.joinPath(extensionUri, 'dist', 'cli.js').fsPath;
  const version = String(vscode.extensions.getExtension('sift-dev.sift-codebase-qa')?.packageJSON?.version ?? '');
  root.add(
    found.api.registerMcpServerDefinitionProvider('sift.mcp', {
      onDidChangeMcpServerDefinitions: changed.event,
      provideMcpServerDefinitions: () => {
        if (!port.isTrusted()) return [];
        const folders = port.folders();
        if (!folders.length) return [];
        // The extension host's own Node (Electron's, run as Node) runs the CLI: no `node` on PATH needed.
        return [new found.Stdio(folders.length === 1 ? 'Sift' : `Sift (${folders.map((f) => f.name).join(', ')})`, process.execPath, [cli, 'mcp', ...folders.map((f) => f.fsPath)], { ELECTRON_RUN_AS_NODE: '1' }, version)];
      },
    }),
  );
}
