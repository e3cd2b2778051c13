/** ES module solution. */
export function slugify(text) {
  return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export default function shout(text) {
  return `${text.toUpperCase()}!`;
}

export function quit() {
  process.exit(0);
}
