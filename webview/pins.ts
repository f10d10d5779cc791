import type { Pin } from '../src/protocol/messages';
import { h, icon } from './dom';

/** A pin's location as shown: `folder/path:start-end`. */
export const pinLabel = (p: Pin) => `${p.folder ? `${p.folder}/` : ''}${p.path}:${p.startLine}-${p.endLine}`;

/**
 * Editor ranges pinned to the questions (Ask About Selection, `#selection`), shown as chips above
 * the input, each with a remove button. They go with every question until removed or a new
 * conversation starts.
 */
export class PinChips {
  readonly el = h('div', { class: 'pins', role: 'list', 'aria-label': 'Pinned sources', hidden: true });
  private pins: Pin[] = [];

  constructor(
    private readonly onChange: () => void,
    private readonly focusAfterRemove: () => void,
  ) {}

  list(): Pin[] {
    return [...this.pins];
  }

  set(pins: Pin[]): void {
    this.pins = pins.slice(0, 5);
    this.render();
  }

  add(pin: Pin): void {
    this.pins = [...this.pins.filter((p) => pinLabel(p) !== pinLabel(pin)), pin].slice(-5);
    this.render();
    this.onChange();
  }

  clear(): void {
    this.pins = [];
    this.render();
    this.onChange();
  }

  private render(): void {
    this.el.hidden = this.pins.length === 0;
    this.el.replaceChildren(
      ...this.pins.map((p, i) => {
        const label = pinLabel(p);
        const remove = h('button', { class: 'chip-remove', title: 'Remove', 'aria-label': `Remove pinned selection ${label}` }, icon('close'));
        remove.addEventListener('click', () => {
          this.pins.splice(i, 1);
          this.render();
          this.onChange();
          this.focusAfterRemove();
        });
        return h('span', { class: 'chip', role: 'listitem', 'data-pin': label, title: `Pinned: always in the context of the next questions (${p.endLine - p.startLine + 1} lines)` }, icon('pinned'), ` #selection ${label}`, remove);
      }),
    );
  }
}
