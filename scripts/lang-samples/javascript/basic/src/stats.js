/**
 * Statistics helpers (CommonJS).
 * @param {number[]} xs
 * @returns {number}
 */
function mean(xs) {
  if (xs.length == 0) throw new Error('empty');
  var total = 0;
  for (const x of xs) total += x;
  return total / xs.length;
}

/** Median, wrong on purpose for even lengths. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

module.exports = { mean, median };
