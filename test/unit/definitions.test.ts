import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkDefines, definedIn, questionSymbols } from '../../src/core/search/definitions';
import { understandQuestion } from '../../src/core/query/understand';

describe('definitions in a chunk\'s text', () => {
  const defines: [string, string, string][] = [
    ['TypeScript method in a class chunk', 'export class Uploader {\n  async retryFailedUploads(queue: string[], maxAttempts = 5): Promise<number> {\n    return 0;\n  }\n}', 'retryFailedUploads'],
    ['private static method', 'class A {\n  private static parseHeader<T>(raw: string): T {\n  }\n}', 'parseHeader'],
    ['function declaration', 'export default async function handleRequest(req) {\n}', 'handleRequest'],
    ['arrow binding', 'export const findRoute = (path: string) => routes.get(path);', 'findRoute'],
    ['Python method', 'class Flask:\n    def _find_error_handler(self, e, blueprints):\n        pass', '_find_error_handler'],
    ['Python lambda binding', 'normalize = lambda s: s.strip()', 'normalize'],
    ['Go method with receiver', 'func (c *Command) ExecuteC() (cmd *Command, err error) {\n}', 'ExecuteC'],
    ['Go function', 'func newRouter() *Router {', 'newRouter'],
    ['Rust pub fn', 'impl Parser {\n    pub(crate) fn parse_table(&mut self) -> Result<()> {\n    }\n}', 'parse_table'],
    ['Java method', 'public class Dao {\n    public List<User> findUsers(String name) {\n    }\n}', 'findUsers'],
    ['Ruby class method', 'def self.build_client(opts)\nend', 'build_client'],
    ['a type', 'export interface UploadOptions {\n  retries: number;\n}', 'UploadOptions'],
  ];
  for (const [what, text, name] of defines) {
    it(`finds ${what}`, () => assert.equal(definedIn(text, ['other', name.toLowerCase()]), name, 'spelled as in the text'));
  }

  const uses: [string, string, string][] = [
    ['a call statement', 'function main() {\n  retryFailedUploads(queue);\n}', 'retryFailedUploads'],
    ['an awaited call', '  const n = await uploader.retryFailedUploads(queue);', 'retryFailedUploads'],
    ['a call in a condition', '  if (retryFailedUploads(queue)) {\n  }', 'retryFailedUploads'],
    ['a callback argument', '  queue.forEach(retryFailedUploads);', 'retryFailedUploads'],
    ['a comment', '  // see retryFailedUploads for the backoff', 'retryFailedUploads'],
    ['a Python call', '    handler = self._find_error_handler(e, blueprints)', '_find_error_handler'],
    ['an import', "import { retryFailedUploads } from './uploader';", 'retryFailedUploads'],
    ['a Go call', '\tcmd, err := c.ExecuteC()', 'ExecuteC'],
  ];
  for (const [what, text, name] of uses) {
    it(`does not count ${what}`, () => assert.equal(definedIn(text, [name]), undefined));
  }
});

describe('one rule for "this chunk defines X" (file evidence, LTR features, the definition lookup)', () => {
  const names = questionSymbols(understandQuestion('`CliRunner.invoke` fails after `_find_error_handler` in `Session.merge_environment`'));

  it('reads the question\'s names once: qualified owner.name pairs, then bare last parts', () => {
    assert.deepEqual(names.qualified.map((q) => `${q.owner}.${q.name}`), ['clirunner.invoke', 'session.merge_environment']);
    assert.deepEqual(names.bare.map((b) => b.name), ['invoke', '_find_error_handler', 'merge_environment']);
    assert.deepEqual(names.qualified.map((q) => [q.ownerSpelled, q.spelled]), [['CliRunner', 'invoke'], ['Session', 'merge_environment']]);
  });

  const cases: [string, string[], string, ReturnType<typeof chunkDefines>][] = [
    ['the qualified definition', ['CliRunner', 'invoke'], '', { how: 'qualified', defined: 'CliRunner.invoke' }],
    ['inside the qualified definition', ['testing', 'CliRunner', 'invoke', 'inner'], '', { how: 'qualified', defined: 'testing.CliRunner.invoke' }],
    ['another owner\'s method of the name', ['Other', 'invoke'], '', { how: 'name', defined: 'Other.invoke' }],
    ['a chunk inside a named function', ['_find_error_handler', 'walk'], '', { how: 'name', defined: '_find_error_handler' }],
    ['a method declared in a class chunk\'s text', ['Flask'], 'class Flask:\n    def _find_error_handler(self, e):\n        pass', { how: 'name', defined: 'Flask._find_error_handler' }],
    ['a symbol that only contains the name', ['merge_environment_settings'], '', undefined],
    ['a call in the text', ['main'], 'def main():\n    return _find_error_handler(e)', undefined],
    ['the owner alone', ['CliRunner'], '', undefined],
  ];
  for (const [what, symbols, text, want] of cases) it(what, () => assert.deepEqual(chunkDefines({ symbols, text }, names), want));

  it('without its text part, only the symbol path counts', () => {
    assert.equal(chunkDefines({ symbols: ['Flask'], text: 'class Flask:\n    def _find_error_handler(self, e):\n        pass' }, names, { text: false }), undefined);
  });
});
