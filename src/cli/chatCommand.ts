import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { type Conversation, newConversation } from '../core/conversation/conversation';
import { askTurn, compareTurn } from '../core/conversation/turn';
import { IndexStore } from '../core/store/store';
import { SiftError } from '../core/util/errors';
import { type AskCommandOptions, EXIT_LLM_FAILED, answerJson, askContextFromOptions, compareJson, printAnswerTail, printComparison, printNotices, printSources } from './askCommand';
import { interruptSignal, startWorker } from './engine';
import { humanErr, humanOut } from './format';
import { buildIndex, reportFailure, resolveRoot } from './indexCommand';
import { defaultIndexDir } from './paths';

const HELP = 'Ask a question; follow-ups use the conversation. /new starts a new conversation, /compare QUESTION ranks with and without reranking, /quit ends.';

/**
 * `sift chat DIR`: a conversation in the terminal. One question per line (a prompt when stdin is
 * a terminal; piped stdin works the same, line by line). Follow-ups are made standalone from the
 * conversation (LLM rewrite or key terms), earlier turns go to the LLM, /new forgets them.
 */
export async function runChatCommand(dir: string, options: AskCommandOptions): Promise<number> {
  const root = resolveRoot(dir);
  if (!root) return 2;
  const indexDir = path.resolve(options.indexDir ?? defaultIndexDir(root));
  const signal = interruptSignal();
  const client = await startWorker(options);
  const notice = (m: string) => humanErr(`sift: ${m}\n`);
  const human = !options.json;
  let failed = false;
  try {
    await buildIndex(client, root, indexDir, { ...options, quiet: options.quiet || options.json }, signal);
    const { store, problem } = await IndexStore.openForRead(indexDir, { files: true });
    if (!store) throw new SiftError(`The index in ${indexDir} cannot be read: ${problem}.`);
    const ctx = await askContextFromOptions(client, store, options, signal, notice, options.rerank !== false);
    const interactive = Boolean(process.stdin.isTTY);
    const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
    if (interactive) humanOut(`${HELP}\n`);
    const prompt = () => interactive && rl.prompt();
    let conversation: Conversation = newConversation();
    const rewriteCache = new Map<string, string>();
    const log = (line: string) => human && humanErr(`sift: ${line}\n`);
    prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (!line) {
        prompt();
        continue;
      }
      if (line === '/quit' || line === '/exit') break;
      if (line === '/new') {
        conversation = newConversation();
        if (human) humanOut('── New conversation ──\n');
        prompt();
        continue;
      }
      if (line === '/help' || (line.startsWith('/') && !line.startsWith('/compare'))) {
        humanOut(`${HELP}\n`);
        prompt();
        continue;
      }
      if (line.startsWith('/compare')) {
        const question = line.slice('/compare'.length).trim();
        if (!question) {
          humanOut('Usage: /compare QUESTION\n');
          prompt();
          continue;
        }
        // A comparison retrieves as a turn does (the question made standalone, --path and @mentions); the turn joins the conversation.
        let searched: string | undefined;
        const turn = await compareTurn(ctx, conversation, question, {
          paths: options.path,
          rewriteCache,
          log,
          onEvent: (e) => {
            if (e.type === 'notice' && e.message.startsWith('Searched for: ')) {
              searched = e.message.slice('Searched for: '.length);
              if (human) humanOut(`(searched for: ${searched})\n`);
            }
            if (!human) return;
            if (e.type === 'ranked' && e.variant === 'reranked') printComparison(searched ?? question, ctx, e.ranking);
            if (e.type === 'token' && e.variant === 'reranked') humanOut(e.text);
          },
        });
        const result = turn.compare;
        conversation = turn.conversation;
        if (human) {
          printNotices(result.reranked.notices);
          printAnswerTail(result.reranked);
        } else process.stdout.write(`${JSON.stringify({ turn: conversation.turns.length, compare: compareJson(result) })}\n`);
        failed ||= result.reranked.answerKind === 'error';
        prompt();
        continue;
      }
      const turn = await askTurn(ctx, conversation, line, {
        rerank: options.rerank !== false,
        paths: options.path,
        rewriteCache,
        log,
        onEvent: (e) => {
          if (human && e.type === 'token') humanOut(e.text);
        },
      });
      conversation = turn.conversation;
      const r = turn.result;
      if (human) {
        if (r.searchedFor) humanOut(`(searched for: ${r.searchedFor})\n`);
        printNotices(r.notices.filter((n) => !n.startsWith('Searched for: ')));
        printAnswerTail(r);
        printSources(r);
        humanOut('\n');
      } else process.stdout.write(`${JSON.stringify({ turn: conversation.turns.length, ...answerJson(r) })}\n`);
      failed ||= r.answerKind === 'error';
      prompt();
    }
    rl.close();
    return failed ? EXIT_LLM_FAILED : 0;
  } catch (err) {
    return reportFailure(err, 'the conversation');
  } finally {
    await client.dispose();
  }
}
