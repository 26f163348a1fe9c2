package jobs

import (
	"context"

	"example.com/shop/internal/payments"
)

type Subscription struct {
	Customer string
	Cents    int64
}

func Renew(ctx context.Context, pay *payments.Client, subs []Subscription) error {
	for _, s := range subs {
		if err := pay.Charge(ctx, s.Customer, s.Cents); err != nil {
			return err
		}
	}
	return nil
}
