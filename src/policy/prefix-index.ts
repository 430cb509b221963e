interface TrieNode<T> {
  readonly children: Map<number, TrieNode<T>>;
  items: T[] | undefined;
}

/**
 * Items keyed by string prefixes: `forEachPrefixOf(s)` visits the items of
 * every key that is a prefix of `s`, walking `s` once (no allocation).
 */
export class PrefixIndex<T> {
  readonly #root: TrieNode<T> = { children: new Map(), items: undefined };
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(prefix: string, item: T): void {
    let node = this.#root;
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i);
      let next = node.children.get(c);
      if (next === undefined) {
        next = { children: new Map(), items: undefined };
        node.children.set(c, next);
      }
      node = next;
    }
    if (node.items === undefined) node.items = [];
    if (!node.items.includes(item)) {
      node.items.push(item);
      this.#size++;
    }
  }

  forEachPrefixOf(s: string, visit: (items: readonly T[]) => void): void {
    let node: TrieNode<T> | undefined = this.#root;
    if (node.items !== undefined) visit(node.items);
    for (let i = 0; i < s.length; i++) {
      node = node.children.get(s.charCodeAt(i));
      if (node === undefined) return;
      if (node.items !== undefined) visit(node.items);
    }
  }
}
