/** Price helpers; amounts are integer cents. */

export function applyDiscount(cents: number, percent: number): number {
  return Math.round(cents * (100 - percent) / 100);
}
