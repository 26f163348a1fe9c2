import { applyDiscount } from "../services/price";

export function totalWithCoupon(cents: number, coupon?: string): number {
  if (coupon === "WELCOME15") {
    return applyDiscount(cents, 15);
  }
  return cents;
}
