import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/common';
import { escapeHtml, markdownHtml } from './markdownHtml';

export { escapeHtml };

/**
 * LLM text → safe DOM. marked renders markdown with links and images as text showing their full
 * target (webview/markdownHtml.ts); DOMPurify removes anything executable or navigable (scripts,
 * event handlers, raw HTML, anchors, images, any URL attribute); highlight.js colours code blocks
 * from their text. Citations like [2] become buttons afterwards, on text nodes only.
 */
const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'ul', 'ol', 'li', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'span'];

export function renderMarkdown(markdown: string, sourceCount: number): DocumentFragment {
  const html = markdownHtml(markdown);
  // No anchors, no images and no URL-carrying attribute survive: nothing in an answer can be clicked open.
  const clean = DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['title', 'class', 'align'],
    ALLOW_DATA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  }) as DocumentFragment;
  for (const code of clean.querySelectorAll('pre code')) highlightCode(code as HTMLElement);
  linkCitations(clean, sourceCount);
  return clean;
}

/** Highlights a code element in place from its text content. */
export function highlightCode(el: HTMLElement, language?: string): void {
  const lang = language ?? [...el.classList].find((c) => c.startsWith('language-'))?.slice(9);
  const text = el.textContent ?? '';
  const result = lang && hljs.getLanguage(lang) ? hljs.highlight(text, { language: lang, ignoreIllegals: true }) : hljs.highlightAuto(text.slice(0, 20_000));
  // hljs escapes the text itself; its output is spans with hljs-* classes only.
  el.innerHTML = DOMPurify.sanitize(result.value, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'] });
  el.classList.add('hljs');
}

/** Turns [n] / [n, m] in prose (not in code) into citation buttons. */
function linkCitations(root: DocumentFragment, sourceCount: number): void {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if ((n.parentElement?.closest('code, pre, a'))) continue;
    if (/\[\d+(\s*[,–-]\s*\d+)*\]/.test(n.nodeValue ?? '')) nodes.push(n as Text);
  }
  for (const node of nodes) {
    const frag = document.createDocumentFragment();
    const text = node.nodeValue ?? '';
    let last = 0;
    for (const m of text.matchAll(/\[(\d+(?:\s*[,–-]\s*\d+)*)\]/g)) {
      frag.append(text.slice(last, m.index));
      const numbers = expand(m[1]!);
      numbers.forEach((n) => {
        const b = document.createElement('button');
        b.className = n >= 1 && n <= sourceCount ? 'cite' : 'cite unverified';
        b.dataset.cite = String(n);
        b.textContent = `[${n}]`;
        b.title = n >= 1 && n <= sourceCount ? `Open source ${n}` : `Source ${n} was not given to the model (unverified citation)`;
        frag.append(b);
      });
      last = m.index! + m[0].length;
    }
    frag.append(text.slice(last));
    node.replaceWith(frag);
  }
}

function expand(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const [a, b] = part.split(/[–-]/).map((x) => Number.parseInt(x.trim(), 10));
    if (b === undefined) out.push(a!);
    else for (let i = a!; i <= b && i - a! < 50; i++) out.push(i);
  }
  return out;
}
