import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_QUESTION_CHARS, understandQuestion, weightedQueryTerms } from '../../src/core/query/understand';
import { fileRole, rolePrior } from '../../src/core/query/roles';
import { pathMatches } from '../../src/core/search/fileEvidence';

describe('question understanding: traceback frames', () => {
  it('Python', () => {
    const u = understandQuestion(
      'Traceback (most recent call last):\n  File "/home/u/venv/lib/flask/app.py", line 1234, in _find_error_handler\n    handler = x[code]\n  File "src/flask/ctx.py", line 12, in <module>\nKeyError: 404',
    );
    assert.deepEqual(u.frames, [
      { path: '/home/u/venv/lib/flask/app.py', line: 1234, symbol: '_find_error_handler' },
      { path: 'src/flask/ctx.py', line: 12 },
    ]);
    assert.ok(u.identifiers.includes('_find_error_handler'));
    assert.deepEqual(u.errors, ['KeyError: 404']);
    assert.equal(u.kind, 'bug');
  });
  it('JavaScript / TypeScript', () => {
    const u = understandQuestion('TypeError: cannot read properties of undefined\n    at parseQuery (src/a.ts:12:5)\n    at Object.<anonymous> (/app/lib/b.js:3:9)\n    at src/c.mjs:7:1');
    assert.deepEqual(u.frames.map((f) => [f.path, f.line, f.symbol]), [
      ['src/a.ts', 12, 'parseQuery'],
      ['/app/lib/b.js', 3, 'Object.<anonymous>'],
      ['src/c.mjs', 7, undefined],
    ]);
    assert.equal(u.kind, 'bug');
    assert.ok(u.identifiers.includes('parseQuery'));
  });
  it('Go', () => {
    const u = understandQuestion('panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.handle(...)\n\t/src/app/server/handler.go:42 +0x1d\nmain.main()\n\tcmd/app/main.go:9 +0x25');
    assert.deepEqual(u.frames.map((f) => [f.path, f.line]), [['/src/app/server/handler.go', 42], ['cmd/app/main.go', 9]]);
    assert.ok(u.errors.some((e) => e.startsWith('panic: runtime error')));
    assert.equal(u.kind, 'bug');
  });
  it('Java', () => {
    const u = understandQuestion('java.lang.IllegalStateException: closed\n\tat com.acme.io.Pool.borrow(Pool.java:88)\n\tat com.acme.App.main(App.java:12)');
    // The package gives the folders: com/acme/io/Pool.java matches src/main/java/com/acme/io/Pool.java, not another Pool.java.
    assert.deepEqual(u.frames.map((f) => [f.path, f.line, f.symbol]), [['com/acme/io/Pool.java', 88, 'com.acme.io.Pool.borrow'], ['com/acme/App.java', 12, 'com.acme.App.main']]);
    assert.ok(pathMatches('src/main/java/com/acme/io/Pool.java', u.frames[0]!.path));
    assert.ok(!pathMatches('src/main/java/com/acme/db/Pool.java', u.frames[0]!.path));
    assert.ok(u.identifiers.includes('borrow'), u.identifiers.join());
    assert.ok(u.errors[0]!.startsWith('java.lang.IllegalStateException'));
  });
  it('.NET, PHP and Ruby', () => {
    const dotnet = understandQuestion(
      'System.InvalidOperationException: Sequence contains no elements\n   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n   at Shop.Orders.Uploader.Retry(Int32 attempts) in C:\\src\\Shop\\Orders\\Uploader.cs:line 57\n   at Shop.Program.Main(String[] args) in /home/u/src/Shop/Program.cs:line 12',
    );
    assert.deepEqual(dotnet.frames.map((f) => [f.path, f.line, f.symbol]), [['C:/src/Shop/Orders/Uploader.cs', 57, 'Shop.Orders.Uploader.Retry'], ['/home/u/src/Shop/Program.cs', 12, 'Shop.Program.Main']]);
    assert.ok(dotnet.identifiers.includes('Shop.Orders.Uploader.Retry'), dotnet.identifiers.join());
    assert.equal(dotnet.kind, 'bug');
    const php = understandQuestion(
      "PHP Fatal error:  Uncaught TypeError: Cart::total(): Return value must be of type int in /var/www/src/Cart.php:41\nStack trace:\n#0 /var/www/src/Checkout.php(12): App\\Cart->total()\n#1 {main}\n  thrown in /var/www/src/Cart.php on line 41",
    );
    assert.deepEqual(php.frames.map((f) => [f.path, f.line, f.symbol]), [['/var/www/src/Checkout.php', 12, 'App.Cart.total'], ['/var/www/src/Cart.php', 41, undefined]]);
    assert.ok(php.identifiers.includes('total'), php.identifiers.join());
    const ruby = understandQuestion("NoMethodError: undefined method `price' for nil\n/app/models/cart.rb:10:in `block in total'\n/app/models/cart.rb:9:in `each'\nfrom /app/controllers/carts_controller.rb:5:in 'show'");
    assert.deepEqual(ruby.frames.map((f) => [f.path, f.line, f.symbol]), [['/app/models/cart.rb', 10, 'total'], ['/app/models/cart.rb', 9, 'each'], ['/app/controllers/carts_controller.rb', 5, 'show']]);
    assert.equal(ruby.kind, 'bug');
  });
  it('Rust', () => {
    const u = understandQuestion("thread 'main' panicked at 'attempt to divide by zero', src/calc.rs:10:5\nstack backtrace:\n   0: calc::div\n             at src/calc.rs:10:5\n   1: app::run\n             at ./src/app.rs:33:9");
    assert.deepEqual(u.frames.map((f) => [f.path, f.line]), [['src/calc.rs', 10], ['./src/app.rs', 33]]);
    assert.equal(u.kind, 'bug');
  });
});

describe('question understanding: identifiers, paths, code, kinds', () => {
  it('finds qualified names, Class.method, snake and camel case, inline and fenced code', () => {
    const u = understandQuestion('Why does `Blueprint.register` call app_context() and makeResponse in views.py?\n```python\nx = url_for("a")\n```');
    for (const id of ['Blueprint.register', 'app_context', 'makeResponse']) assert.ok(u.identifiers.includes(id), `${id} in ${u.identifiers.join()}`);
    assert.ok(!u.identifiers.includes('Why') && !u.identifiers.includes('does'));
    assert.deepEqual(u.paths, ['views.py']);
    assert.deepEqual(u.code, ['x = url_for("a")', 'Blueprint.register']);
  });
  it('classifies kinds', () => {
    const kinds: [string, string][] = [
      ['Where is the session cookie signed?', 'implementation'],
      ['Which file defines the retry policy?', 'implementation'],
      ['How is the config loader tested?', 'tests'],
      ['Where are fixtures for the database set up in the tests?', 'tests'],
      ['Where is the --verbose flag documented?', 'docs'],
      ['How does request routing work?', 'explanation'],
      ['Why does CopyOnWriteArray defer copies until a write', 'explanation'],
      ['explain the request lifecycle', 'explanation'],
      ['Add support for the ASGI pathsend extension', 'change'],
      ["Don't compress on server sent events", 'change'],
      ['Uploading a file larger than 2 GB fails with a wrong size', 'bug'],
      ['ValueError: invalid literal for int()', 'bug'],
    ];
    for (const [q, kind] of kinds) assert.equal(understandQuestion(q).kind, kind, q);
  });
  it('reads a pasted report by its lead: tests, docs and questions named in passing do not make it one about them', () => {
    // Reports against a test framework and a documentation generator, where every paragraph names
    // tests or docs and the answer is still the code to change.
    const reports: [string, string][] = [
      [
        'Parametrized ids are wrong when a fixture is overridden in a subclass\n\nWhen I override a fixture in a test class which inherits from a base class, the generated test ids use the base params. What I expected is ids from the override.\n\n```python\nclass TestBase:\n    def test_value(self, value): ...\n```',
        'bug',
      ],
      ['caplog.records is empty when a logger has propagate=False\n\nNot sure this is expected. Is there a way to capture these records? The docs say every record is captured.', 'change'],
      ['Cross-references to inherited methods in the HTML output\n\nWith :inherited-members:, a reference to Child.method is not resolved. This is documented as supported. Which version changed it?', 'change'],
      ['Napoleon renders a multi-line Returns type as a paragraph\r\n\r\nWhat is the right way to write this in the docstring so the documentation shows one type?', 'change'],
      ['the runner hangs on Windows when a test spawns a subprocess\n\nOur whole test suite hangs since the upgrade; how do I find out which test?', 'bug'],
      // One paragraph, long, stated: a report too.
      [
        `The reporter prints every suite twice when the spec files are given with a glob and also listed in the config file, which is what the documentation recommends for monorepos, so what we see is each describe block executed two times and the test count doubled in the summary at the end; this started with the last minor release and did not happen before that version.`,
        'change',
      ],
      // Said up front: about tests or docs.
      ['tests: cover the retry budget on streaming uploads\n\nThe budget is only checked by hand today.', 'tests'],
      ['Docs: the --verbose flag is missing from the CLI reference\n\nIt was added last year.', 'docs'],
      ['docs(cli): list the --verbose flag\n\nIt was added last year.', 'docs'],
      ['[tests] flaky retry budget case on Windows\n\nIt times out one run in ten.', 'tests'],
      // Opening with the word is not a label: against a documentation generator these are its bugs.
      ['Documentation missing for optional interface methods\n\n## Expected\nThe method comment is rendered.\n## Actual\nNothing is shown.', 'change'],
      ['README.md in the theme folder replaces index.md in the output\n\nThe site index comes from the theme, which is wrong.', 'bug'],
      ['Test ids of overridden fixtures come from the base class\n\nSee the example below.', 'change'],
    ];
    for (const [q, kind] of reports) {
      const u = understandQuestion(q);
      assert.equal(u.kind, kind, q);
      assert.equal(u.asked, false, q);
    }
    // Asked as questions — one line or with a body — they keep their kinds.
    const asked: [string, string][] = [
      ['How is the config loader tested?\n\nI want to add a case for empty sections.', 'tests'],
      ['Where is the --verbose flag documented?\nI could not find it.', 'docs'],
      ['How does request routing work when two blueprints register the same prefix and one of them is mounted under a subdomain that also matches a wildcard route of the application itself, and which of the two handlers wins in that case?', 'explanation'],
      ['What is the dependency chain in the test function that verifies subdomain routing through configuration and route registration?', 'tests'],
    ];
    for (const [q, kind] of asked) {
      const u = understandQuestion(q);
      assert.equal(u.kind, kind, q);
      assert.equal(u.asked, true, q);
    }
  });
  it('weights identifier terms in a long question, leaves a short one alone', () => {
    const short = 'how does render_template work';
    assert.deepEqual(weightedQueryTerms(short), weightedQueryTerms(short, understandQuestion(short)));
    assert.ok(!weightedQueryTerms(short).slice(0, 3).every((t) => t === weightedQueryTerms(short)[0]));
    const long = `When I register an error handler on a blueprint and then raise an exception in the view, the handler registered on the application is called instead of the blueprint one, which is not what the documentation says should happen in this situation. Looking at _find_error_handler it seems to check the app first.`;
    const terms = weightedQueryTerms(long);
    const count = (t: string) => terms.filter((x) => x === t).length;
    assert.ok(count('_find_error_handler') >= 3, terms.slice(0, 10).join());
    assert.ok(count('_find_error_handler') > count('blueprint'));
  });
  it('stays within 5 ms on the longest question', () => {
    const chunk = 'File "src/pkg/mod_a.py", line 10, in some_func\n  at foo (src/a.ts:1:2)\n SomeClass.method_name fails with KeyError: x `code` ';
    const q = chunk.repeat(Math.ceil(MAX_QUESTION_CHARS / chunk.length) + 50);
    understandQuestion(q); // warm up
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      weightedQueryTerms(q);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[10]! < 5, `median ${times[10]} ms`);
    const hostile = '`'.repeat(20000) + 'a'.repeat(20000) + ' at '.repeat(5000);
    const t = performance.now();
    understandQuestion(hostile);
    assert.ok(performance.now() - t < 50, 'pathological input is bounded');
  });
});

describe('file roles', () => {
  it('recognises roles from the path', () => {
    const cases: [string, string][] = [
      ['src/flask/app.py', 'source'],
      ['tests/test_app.py', 'test'],
      ['pkg/test_utils.py', 'test'],
      ['server/handler_test.go', 'test'],
      ['src/a.spec.ts', 'test'],
      ['web/src/__tests__/x.tsx', 'test'],
      ['src/test/java/com/acme/PoolTest.java', 'test'],
      ['conftest.py', 'test'],
      ['docs/api.rst', 'doc'],
      ['README.md', 'doc'],
      ['examples/tutorial/app.py', 'example'],
      ['api/v1/service.pb.go', 'generated'],
      ['dist/bundle.min.js', 'generated'],
      ['package-lock.json', 'generated'],
      ['uv.lock', 'generated'],
      ['Gemfile.lock', 'generated'],
      ['.gitignore', 'config'],
      ['.npmrc', 'config'],
      ['web/.eslintrc.json', 'config'],
      ['pyproject.toml', 'config'],
      ['.github/workflows/ci.yml', 'config'],
      ['src\\win\\main.c', 'source'],
    ];
    for (const [p, role] of cases) assert.equal(fileRole(p), role, p);
  });
  it('puts implementation first for a bug report unless it asks about tests or docs', () => {
    assert.ok(rolePrior('source', 'bug') > rolePrior('test', 'bug'));
    assert.ok(rolePrior('source', 'bug') > rolePrior('doc', 'bug'));
    assert.ok(rolePrior('test', 'tests') > rolePrior('source', 'tests'));
    assert.ok(rolePrior('doc', 'docs') > rolePrior('source', 'docs'));
  });
});
