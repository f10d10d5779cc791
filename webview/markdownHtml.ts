import { Marked, type Tokens } from 'marked';

/**
 * LLM markdown → HTML string, before sanitising (webview/markdown.ts). No DOM here, so it is
 * tested in plain Node.
 *
 * An answer can be steered by the code it quotes (prompt injection), so nothing in it may open
 * anything: links, autolinks and images of any scheme (https:, command:, vscode:, file:, data:, …)
 * are rendered as text that shows the full target. VS Code's webview host opens clicked anchors
 * itself, whatever the page's own click handler does, so the answer contains no anchors at all.
 */
const marked = new Marked({ gfm: true, breaks: false, async: false });

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The target as the user should read it: the whole string, nothing decoded or hidden. */
function target(href: string): string {
  return `<span class="link-target" title="Links in answers are not opened: copy it if you trust it">${escapeHtml(href)}</span>`;
}

marked.use({
  renderer: {
    // Raw HTML in model output is shown as text, never interpreted.
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    link(this: { parser: { parseInline(tokens: Tokens.Link['tokens']): string } }, token: Tokens.Link) {
      const label = this.parser.parseInline(token.tokens);
      // An autolink (or a link whose text is its target) shows the target once.
      if (token.text === token.href || token.text === token.href.replace(/^mailto:/, '')) return `<span class="link">${target(token.href)}</span>`;
      return `<span class="link">${label} (${target(token.href)})</span>`;
    },
    image(token: Tokens.Image) {
      return `<span class="link image">[image${token.text ? `: ${escapeHtml(token.text)}` : ''}] (${target(token.href)})</span>`;
    },
  },
});

export function markdownHtml(markdown: string): string {
  return marked.parse(markdown) as string;
}
