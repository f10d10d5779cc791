import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markdownHtml } from '../../webview/markdownHtml';

describe('links in answers are shown as what they are, never opened', () => {
  const cases: [string, string][] = [
    ['[the docs](https://evil.example/steal?c=1)', 'https://evil.example/steal?c=1'],
    ['see https://evil.example/auto', 'https://evil.example/auto'],
    ['<https://evil.example/angle>', 'https://evil.example/angle'],
    ['www.evil.example/www', 'www.evil.example/www'],
    ['mail <someone@evil.example>', 'someone@evil.example'],
    ['[run](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)', 'command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D'],
    ['[open](vscode://file/etc/passwd)', 'vscode://file/etc/passwd'],
    ['[file](file:///etc/passwd)', 'file:///etc/passwd'],
    ['[js](javascript:alert(1))', 'javascript:alert(1)'],
    ['[data](data:text/html;base64,PHNjcmlwdD4=)', 'data:text/html;base64,PHNjcmlwdD4='],
    ['![tracking pixel](https://evil.example/pixel.png?leak=secret)', 'https://evil.example/pixel.png?leak=secret'],
    ['[ref][1]\n\n[1]: https://evil.example/ref', 'https://evil.example/ref'],
    ['[rel](../../outside/of/workspace)', '../../outside/of/workspace'],
    ['[nested **bold**](http://127.0.0.1:1/x "title")', 'http://127.0.0.1:1/x'],
  ];
  for (const [md, url] of cases) {
    it(md.split('\n')[0]!, () => {
      const html = markdownHtml(md);
      assert.doesNotMatch(html, /<a[\s>]/i, 'no anchor');
      assert.doesNotMatch(html, /<img[\s>]/i, 'no image');
      assert.doesNotMatch(html, /\s(href|src)=/i, 'no URL attribute');
      const shown = html.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
      assert.ok(shown.includes(url), `the full target is shown as text: ${html}`);
    });
  }

  it('keeps the link text beside its target, and raw HTML as text', () => {
    const html = markdownHtml('[**click**](https://evil.example/) and <a href="https://evil.example/raw">raw</a>');
    assert.match(html, /<strong>click<\/strong> \(<span class="link-target"[^>]*>https:\/\/evil\.example\/<\/span>\)/);
    assert.match(html, /&lt;a href=&quot;https:\/\/evil\.example\/raw&quot;&gt;/);
  });
});
