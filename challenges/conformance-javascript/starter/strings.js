/** A URL slug. */
export function slugify(text) {
  return text.toLowerCase();
}

/** The text upper-cased, with an exclamation mark. */
export default function shout(text) {
  return text;
}
