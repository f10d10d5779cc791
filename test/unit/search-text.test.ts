import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { searchText } from '../../src/core/query/understand';
import { retrieve } from '../../src/core/search/retriever';
import type { IndexStore } from '../../src/core/store/store';
import { storeOfChunks, tempDir } from '../helpers';

/**
 * A pasted issue carries its tracker's template: headings, a checklist, HTML comments with
 * instructions, screenshots. Those words are the template's (they match the repository's own issue
 * template and contributing guide), not the reporter's, and are not searched (issue 19).
 */
const CHECKLIST = [
  '- [x] Checked that your issue has not already been filed by searching the existing issues',
  '- [x] Ensured there is no discrepancy between the locally and globally installed versions',
  "- [ ] 'Smoke tested' the code outside the real suite",
];

const ISSUE = [
  'Runner leaks event listeners on process',
  '',
  '### Prerequisites',
  '',
  ...CHECKLIST,
  '<!-- Please describe what happened. Include a minimal reproduction if you can. -->',
  '',
  '### Description',
  '',
  'The `Runner` never removes its uncaughtException listener when disposed.',
  '',
  '**Expected behavior:**',
  'Every listener is removed on dispose.',
  '',
  '![screenshot](https://user-images.example.com/1234/shot.png)',
  'Seen in https://github.com/acme/runner/blob/4f2a9c1/lib/runner.js#L120 and described at https://example.com/blog/leaks?x=1.',
  '',
  '### Versions',
  'Node.js version: 20.11.1',
].join('\n');

describe('searchText: what a pasted issue is searched for', () => {
  it('drops the template: headings, checklist lines, HTML comments, images and links', () => {
    const s = searchText(ISSUE);
    for (const gone of ['Prerequisites', 'Checked that your issue', 'Ensured there is', 'Smoke tested', 'Please describe', '### Description', 'Expected behavior', '### Versions', 'user-images', 'example.com', 'https']) {
      assert.ok(!s.includes(gone), `${gone} is still searched:\n${s}`);
    }
    // The reporter's words stay, the title first; a GitHub link to a file keeps the file's path; facts
    // under a template label (digits) stay.
    assert.equal(s.split('\n')[0], 'Runner leaks event listeners on process');
    for (const kept of ['never removes its uncaughtException listener', 'Every listener is removed on dispose.', 'lib/runner.js', 'Node.js version: 20.11.1']) {
      assert.ok(s.includes(kept), `${kept} is missing:\n${s}`);
    }
  });

  it('leaves a one-line question, and a title that is all template words, as they are', () => {
    for (const q of ['Expected behavior of the retry steps', 'where do we retry failed uploads? see https://example.com/x']) assert.equal(searchText(q), q);
    assert.equal(searchText('Expected behavior\n\nsteps to reproduce'), 'Expected behavior\n');
  });

  it('an unclosed comment drops the rest; pathological input stays linear and bounded', () => {
    assert.equal(searchText('Crash on save\nthe file is lost <!-- template note that never ends\nmore'), 'Crash on save\nthe file is lost ');
    const hostile = `title\n${'<!--'.repeat(2000)}${'![a]('.repeat(2000)}${'http://'.repeat(2000)}${'- [x] '.repeat(2000)}`;
    const s = searchText(hostile);
    assert.ok(s.length <= hostile.length);
    assert.ok(s.startsWith('title\n'));
  });
});

describe('a pasted issue with its template: BM25 finds the code, not the template', () => {
  let cleanup: () => void;
  let store: IndexStore;
  before(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    store = await storeOfChunks(
      dir,
      {
        '.github/ISSUE_TEMPLATE/bug_report.md': [
          {
            symbols: [],
            startLine: 1,
            text: ['### Prerequisites', '', ...CHECKLIST.map((l) => l.replace('[x]', '[ ]')), '', '### Description', '', '**Expected behavior:**', '', '### Versions'].join('\n'),
          },
        ],
        'lib/runner.js': [
          {
            symbols: ['Runner', 'dispose'],
            startLine: 110,
            text: 'Runner.prototype.dispose = function () {\n  this.removeAllListeners();\n  process.removeListener("uncaughtException", this.uncaught);\n};',
          },
        ],
        'lib/reporter.js': [{ symbols: ['Reporter'], startLine: 1, text: 'function Reporter(runner) {\n  runner.on("end", () => this.done());\n}' }],
      },
      (p) => ({ language: p.endsWith('.js') ? 'javascript' : 'markdown', kind: p.endsWith('.js') ? 'function' : 'section' }),
    );
  });
  after(async () => {
    await store.close();
    cleanup();
  });

  it('the implementation ranks above the issue template', async () => {
    const { candidates } = await retrieve(store, ISSUE);
    assert.equal(candidates[0]!.chunk.path, 'lib/runner.js');
    // The template's words alone would find the template first (what searching the raw text did).
    const { candidates: raw } = await retrieve(store, ['Runner leaks', ...CHECKLIST, '### Description', '**Expected behavior:**'].join(' '));
    assert.equal(raw[0]!.chunk.path, '.github/ISSUE_TEMPLATE/bug_report.md');
  });
});
