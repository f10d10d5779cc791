/**
 * Every command Sift registers, in one table: extension.ts registers a handler for each id (the
 * compiler requires one per id), and test/unit/settings.test.ts compares the table with
 * package.json's `contributes.commands`. No vscode import, so the test loads it in plain Node.
 */
export const COMMAND_IDS = [
  'sift.ask',
  'sift.askSelection',
  'sift.compare',
  'sift.openChatInEditor',
  'sift.reindex',
  'sift.pauseIndexing',
  'sift.resumeIndexing',
  'sift.toggleRerank',
  'sift.clearLtrFeedback',
  'sift.setApiKey',
  'sift.clearApiKey',
  'sift.setRerankApiKey',
  'sift.setEmbeddingApiKey',
  'sift.clearRerankApiKey',
  'sift.setTeamIndexPassword',
  'sift.clearTeamIndexPassword',
  'sift.showLogs',
  'sift.clearHistory',
  'sift.openSettings',
  'sift.evaluate',
  'sift.chooseChatModel',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
