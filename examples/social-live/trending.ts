/** One hashtag and how many of the recent posts carry it. */
export interface TrendingTag {
  readonly tag: string;
  readonly count: number;
}

/** Hashtag counts over the last `window` timeline posts (older posts stop counting). */
export class Trending {
  readonly #window: number;
  readonly #posts: string[][] = [];

  constructor(window = 50) {
    this.#window = window;
  }

  /**
   * Count the hashtags of a new post.
   * @returns whether the post had any (only then can the ranking change)
   */
  add(text: string): boolean {
    const tags = [...new Set([...text.matchAll(/#(\w+)/g)].map((m) => m[1]!.toLowerCase()))];
    if (tags.length === 0) return false;
    this.#posts.push(tags);
    if (this.#posts.length > this.#window) this.#posts.shift();
    return true;
  }

  /** The `n` most used tags, most used first (ties: alphabetical). */
  top(n: number): TrendingTag[] {
    const counts = new Map<string, number>();
    for (const tags of this.#posts) for (const tag of tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    return [...counts]
      .map(([tag, count]) => ({ tag, count }))
      .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag))
      .slice(0, n);
  }
}
