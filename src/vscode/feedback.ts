import type { EditorSignals } from '../core/ltr/features';
import { FeedbackLearner, OpenRecorder } from '../core/ltr/feedback';
import { shippedLtrModel } from '../core/ltr/model';
import type { Candidate } from '../core/search/types';
import type { KeyValueStore, Log } from './ports';
import type { SiftSettings } from './settingsSchema';

/** Learned ranking feedback: per workspace, in VS Code's workspace storage on this machine only. */
export const FEEDBACK_KEY = 'sift.ltrFeedback';

/**
 * Learning to rank from the sources the user opens after an answer: the shipped model's companion
 * that remembers each answer's candidates and turns an opened source into preference pairs.
 */
export class RankingFeedback {
  private recorder: OpenRecorder | undefined;

  constructor(
    private readonly state: KeyValueStore,
    private readonly log: Log,
  ) {}

  /** The recorder when learning from opens is on (created on first use, with what was stored). */
  active(s: Pick<SiftSettings, 'ltr.enabled' | 'ltr.learnFromOpens'>): OpenRecorder | undefined {
    if (!s['ltr.enabled'] || !s['ltr.learnFromOpens']) return undefined;
    if (!this.recorder) {
      const model = shippedLtrModel();
      this.recorder = new OpenRecorder(new FeedbackLearner(model, this.state.get(FEEDBACK_KEY)), model);
    }
    return this.recorder;
  }

  /** Remembers the learning-to-rank answer `id`'s sources, to learn from the ones the user opens. */
  remember(recorder: OpenRecorder, id: string, question: string, candidates: readonly Candidate[], sources: readonly { rankAfter: number }[], editor?: EditorSignals): void {
    recorder.remember(`${id}|reranked`, question, candidates, sources, editor);
  }

  /**
   * The user opened source `n` of an answer: a relevance judgement (when learning is on and the
   * answer was ranked by the learning-to-rank stage).
   */
  async opened(s: Pick<SiftSettings, 'ltr.enabled' | 'ltr.learnFromOpens'>, id: string, variant: 'reranked' | 'notReranked', n: number): Promise<void> {
    if (!s['ltr.enabled'] || !s['ltr.learnFromOpens'] || variant !== 'reranked' || !this.recorder) return;
    const learner = this.recorder.learner;
    const added = this.recorder.opened(`${id}|${variant}`, n);
    if (!added && !learner.openedBefore().length) return;
    await this.state.update(FEEDBACK_KEY, learner.toJSON());
    const top = learner.topWeights(4).map((w) => `${w.feature} ${w.weight}`).join(', ');
    this.log.info(`Ranking feedback: source ${n} opened (${added} pairs; ${learner.pairCount} stored from ${learner.opens} opens)${top ? `; learned ${top}` : ''}`);
  }

  /** Forgets everything learned from opened sources in this workspace. */
  async clear(): Promise<void> {
    this.recorder?.learner.clear();
    this.recorder?.forget();
    await this.state.update(FEEDBACK_KEY, undefined);
    this.log.info('Learned ranking feedback cleared.');
  }
}
