import type { FromWebview, MentionItem } from '../src/protocol/messages';
import { h, icon } from './dom';

const KIND_ICON: Record<MentionItem['kind'], string> = { file: 'file', folder: 'folder', symbol: 'symbol-method' };

/**
 * `@` completion on the question input, an ARIA combobox: typing `@` (then any part of a path or
 * symbol) asks the host for matches from the index; ArrowUp/ArrowDown move the active option
 * (aria-activedescendant), Enter or Tab insert it, Escape closes the list. A mentioned symbol
 * scopes the question to its file (`pathsFor`); files and folders are `@path` in the text.
 */
export class MentionCompleter {
  readonly list = h('ul', { id: 'mention-list', class: 'mentions', role: 'listbox', 'aria-label': 'Files, folders and symbols of the index', hidden: true });
  readonly announcer = h('div', { class: 'sr-only', 'aria-live': 'polite' });
  private items: MentionItem[] = [];
  private active = -1;
  private requestId = 0;
  private readonly symbolFiles = new Map<string, string>();

  constructor(
    private readonly input: HTMLTextAreaElement,
    private readonly send: (m: FromWebview) => void,
  ) {
    for (const [k, v] of Object.entries({ role: 'combobox', 'aria-autocomplete': 'list', 'aria-haspopup': 'listbox', 'aria-controls': 'mention-list', 'aria-expanded': 'false' })) input.setAttribute(k, v);
    input.addEventListener('input', () => this.onInput());
    input.addEventListener('blur', () => this.close());
    // A click on an option must not blur the input first.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = (e.target as HTMLElement).closest('li[data-index]') as HTMLElement | null;
      const item = li ? this.items[Number(li.dataset.index)] : undefined;
      if (item) this.accept(item);
    });
  }

  get isOpen(): boolean {
    return !this.list.hidden;
  }

  /** Handles the input's keydown while the list is open; true when the key was used. */
  handleKeydown(e: KeyboardEvent): boolean {
    if (!this.isOpen || e.isComposing) return false;
    const n = this.items.length;
    if (e.key === 'ArrowDown' && n) this.setActive((this.active + 1) % n);
    else if (e.key === 'ArrowUp' && n) this.setActive((this.active - 1 + n) % n);
    else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && this.active >= 0) this.accept(this.items[this.active]!);
    else if (e.key === 'Escape') this.close();
    else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  }

  receive(msg: { requestId: number; items: MentionItem[]; notice?: string }): void {
    if (msg.requestId !== this.requestId || !this.token()) return;
    this.items = msg.items;
    this.list.replaceChildren(
      ...(msg.items.length
        ? msg.items.map((it, i) =>
            h(
              'li',
              { id: `mention-opt-${i}`, role: 'option', 'data-index': String(i), 'data-kind': it.kind, 'aria-selected': 'false', 'aria-label': `${it.kind} ${it.insert}${it.file ? ` in ${it.file}${it.line ? ` line ${it.line}` : ''}` : ''}` },
              icon(KIND_ICON[it.kind]),
              h('span', { class: 'mention-text' }, it.insert),
              it.file ? h('span', { class: 'muted small' }, `${it.file}${it.line ? `:${it.line}` : ''}`) : null,
            ),
          )
        : [h('li', { role: 'option', 'aria-disabled': 'true', class: 'muted' }, msg.notice ?? 'No file, folder or symbol of the index matches.')]),
    );
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.setActive(msg.items.length ? 0 : -1);
    this.announcer.textContent = msg.items.length ? `${msg.items.length} suggestion${msg.items.length === 1 ? '' : 's'}. Up and Down to choose, Enter to insert, Escape to close.` : (msg.notice ?? 'No matches.');
  }

  /** Files of the symbols mentioned in `question` (what the host scopes it to besides its `@path` mentions). */
  pathsFor(question: string): string[] {
    const out = new Set<string>();
    for (const [symbol, file] of this.symbolFiles) if (new RegExp(`(^|\\s)@${symbol.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.])`).test(question)) out.add(file);
    return [...out].slice(0, 20);
  }

  /** After a question is sent: forget its mentioned symbols. */
  reset(): void {
    this.symbolFiles.clear();
    this.close();
  }

  close(): void {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.items = [];
    this.active = -1;
    this.requestId++;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  private onInput(): void {
    const tok = this.token();
    if (!tok) return this.close();
    this.send({ type: 'complete', requestId: ++this.requestId, prefix: tok.prefix });
  }

  /** The `@word` being typed at the caret. */
  private token(): { start: number; prefix: string } | undefined {
    const caret = this.input.selectionStart ?? this.input.value.length;
    if (caret !== this.input.selectionEnd) return undefined;
    const m = /(^|\s)@([^\s@]{0,200})$/.exec(this.input.value.slice(0, caret));
    return m ? { start: m.index + m[1]!.length, prefix: m[2]! } : undefined;
  }

  private setActive(i: number): void {
    this.active = i;
    for (const li of this.list.querySelectorAll('li[role="option"]')) li.setAttribute('aria-selected', String(li.id === `mention-opt-${i}`));
    if (i >= 0) {
      this.input.setAttribute('aria-activedescendant', `mention-opt-${i}`);
      this.list.querySelector(`#mention-opt-${i}`)?.scrollIntoView({ block: 'nearest' });
    } else this.input.removeAttribute('aria-activedescendant');
  }

  private accept(item: MentionItem): void {
    const tok = this.token();
    if (!tok) return this.close();
    const caret = this.input.selectionStart ?? this.input.value.length;
    const rest = this.input.value.slice(caret).replace(/^[^\s]*/, '');
    const text = `@${item.insert} `;
    this.input.value = this.input.value.slice(0, tok.start) + text + rest.replace(/^\s/, '');
    const at = tok.start + text.length;
    this.input.setSelectionRange(at, at);
    if (item.kind === 'symbol' && item.file) this.symbolFiles.set(item.insert, item.file);
    this.close();
    this.announcer.textContent = `Inserted ${item.kind} ${item.insert}.`;
    this.input.dispatchEvent(new Event('change'));
  }
}
