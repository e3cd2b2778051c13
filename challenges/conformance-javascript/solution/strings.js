/**
 * A URL slug: lower-case words joined by single dashes.
 * @param {string} text
 * @returns {string}
 */
export function slugify(text) {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The text upper-cased, with an exclamation mark.
 * @param {string} text
 * @returns {string}
 */
export default function shout(text) {
  return `${text.toUpperCase()}!`;
}
