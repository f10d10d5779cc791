import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { membersOf } from '../../src/core/search/definitions';

describe('@ completion: methods inside a class chunk (membersOf)', () => {
  it('Python: the class\'s own defs, not nested functions or __init__', () => {
    const text = ['class SessionStore:', '    def __init__(self):', '        pass', '', '    @property', '    def size(self):', '        def inner():', '            pass', '        return 1', '', '    async def flush(self):', '        pass'].join('\n');
    assert.deepEqual(membersOf('python', text), [
      { name: 'size', line: 5 },
      { name: 'flush', line: 10 },
    ]);
  });

  it('TypeScript / JavaScript: methods with modifiers and generics, not calls or control flow inside bodies', () => {
    const text = ['export class Uploader {', '  private queue: string[] = [];', '  constructor(private n: number) {}', '  async retryFailedUploads(queue: string[]): Promise<number> {', '    if (queue.length) {', '      this.send(queue[0]);', '    }', '    return 0;', '  }', '  static of<T>(x: T): Uploader {', '    return new Uploader(1);', '  }', '  get size() {', '    return 0;', '  }', '}'].join('\n');
    assert.deepEqual(membersOf('typescript', text).map((m) => m.name), ['retryFailedUploads', 'of', 'size']);
    assert.deepEqual(membersOf('javascript', 'class A {\n  #hidden() {}\n  run() { go(); }\n}').map((m) => m.name), ['#hidden', 'run']);
  });

  it('Java, Ruby, Rust; a language without a pattern gives nothing', () => {
    assert.deepEqual(membersOf('java', 'public class Cache {\n  private final Map<String, Integer> m = new HashMap<>();\n  public synchronized Integer get(String k) {\n    return m.get(k);\n  }\n  void clear() {}\n}').map((m) => m.name), ['get', 'clear']);
    assert.deepEqual(membersOf('ruby', 'class Cart\n  def total\n  end\n  def self.empty?\n  end\nend').map((m) => m.name), ['total', 'empty?']);
    assert.deepEqual(membersOf('rust', 'impl Cart {\n    pub fn total(&self) -> u32 {\n        0\n    }\n    fn clear(&mut self) {}\n}').map((m) => m.name), ['total', 'clear']);
    assert.deepEqual(membersOf('markdown', '# Title\n  def x('), []);
  });
});
