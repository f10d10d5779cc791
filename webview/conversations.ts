import type { ConversationSummary, FromWebview } from '../src/protocol/messages';
import { h, icon } from './dom';

/**
 * Past conversations, most recent first: the title (first question), when it was last active
 * and how many turns it has. A button opens one (Enter or click); deleting asks to confirm in
 * place (Cancel has the focus; Escape cancels). Everything is a native button: keyboard-usable.
 */
export class ConversationList {
  readonly toggle = h('button', { id: 'conversations-toggle', title: 'Past conversations', 'aria-expanded': 'false', 'aria-controls': 'conversation-list' }, icon('history'), ' History');
  readonly panel = h('nav', { id: 'conversation-list', class: 'conversations', 'aria-label': 'Past conversations', hidden: true });
  private items: ConversationSummary[] = [];
  private current = '';

  constructor(
    private readonly send: (m: FromWebview) => void,
    private readonly afterOpen: () => void,
  ) {
    this.toggle.addEventListener('click', () => this.setOpen(this.panel.hidden));
    this.panel.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      const confirming = (e.target as HTMLElement).closest('li.confirming');
      if (confirming) this.render();
      else {
        this.setOpen(false);
        this.toggle.focus();
      }
    });
  }

  update(items: ConversationSummary[], current: string): void {
    this.items = items;
    this.current = current;
    this.toggle.replaceChildren(icon('history'), ` History${items.length ? ` (${items.length})` : ''}`);
    this.render();
  }

  setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open) (this.panel.querySelector('button') as HTMLButtonElement | null)?.focus();
  }

  private render(): void {
    if (!this.items.length) {
      this.panel.replaceChildren(h('p', { class: 'muted small' }, 'No past conversations yet.'));
      return;
    }
    this.panel.replaceChildren(h('ul', {}, ...this.items.map((c) => this.row(c))));
  }

  private row(c: ConversationSummary): HTMLElement {
    const when = formatDate(c.updatedAt);
    const meta = `${when} · ${c.turns} ${c.turns === 1 ? 'turn' : 'turns'}`;
    const open = h('button', { class: 'conversation-open', title: `Open: ${c.title}`, 'aria-label': `${c.title}, ${meta}${c.id === this.current ? ', current' : ''}` }, h('span', { class: 'conversation-title' }, c.title), h('span', { class: 'muted small' }, meta));
    const del = h('button', { class: 'conversation-delete', title: 'Delete this conversation', 'aria-label': `Delete conversation: ${c.title}` }, icon('trash'));
    const li = h('li', { class: 'conversation', 'data-conversation-id': c.id, 'aria-current': c.id === this.current ? 'true' : undefined }, open, del);
    open.addEventListener('click', () => {
      this.send({ type: 'openConversation', id: c.id });
      this.setOpen(false);
      this.afterOpen();
    });
    del.addEventListener('click', () => this.confirm(li, c));
    return li;
  }

  private confirm(li: HTMLElement, c: ConversationSummary): void {
    const yes = h('button', { class: 'confirm-delete', 'aria-label': `Delete “${c.title}”` }, icon('trash'), ' Delete');
    const no = h('button', { class: 'cancel-delete' }, 'Cancel');
    li.classList.add('confirming');
    li.replaceChildren(h('span', { class: 'confirm-text', role: 'alert' }, `Delete “${c.title}”? This cannot be undone.`), yes, no);
    yes.addEventListener('click', () => this.send({ type: 'deleteConversation', id: c.id }));
    no.addEventListener('click', () => {
      this.render();
      (this.panel.querySelector(`[data-conversation-id="${CSS.escape(c.id)}"] .conversation-delete`) as HTMLElement | null)?.focus();
    });
    no.focus();
  }
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
