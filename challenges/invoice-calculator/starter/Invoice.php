<?php

declare(strict_types=1);

/**
 * One line of an invoice: what was sold, how many, at what price, taxed at what rate.
 */
final class InvoiceLine
{
    public function __construct(
        public readonly string $description,
        public readonly int $quantity,
        public readonly int $unitPrice,
        public readonly string $taxRate,
        public readonly int $discount,
        public readonly int $net,
    ) {
    }
}

/**
 * An invoice: lines, net amount, tax per rate, gross amount, all in integer cents.
 */
final class Invoice
{
    /**
     * @param string $currency an ISO 4217 code: three upper-case letters
     */
    public function __construct(private readonly string $currency = 'EUR')
    {
    }

    /**
     * The invoice's currency code.
     */
    public function currency(): string
    {
        return $this->currency;
    }

    /**
     * Add a line; returns the invoice.
     */
    public function addLine(
        string $description,
        int $quantity,
        int $unitPrice,
        string $taxRate,
        int $discount = 0
    ): self {
        throw new LogicException('not implemented');
    }

    /**
     * The lines, in the order added.
     *
     * @return list<InvoiceLine>
     */
    public function lines(): array
    {
        throw new LogicException('not implemented');
    }

    /**
     * The sum of the lines' net amounts, in cents.
     */
    public function netTotal(): int
    {
        throw new LogicException('not implemented');
    }

    /**
     * Net amount and tax per rate, the rates in ascending numeric order.
     *
     * @return array<string, array{net: int, tax: int}>
     */
    public function taxBreakdown(): array
    {
        throw new LogicException('not implemented');
    }

    /**
     * The tax of every rate together, in cents.
     */
    public function taxTotal(): int
    {
        throw new LogicException('not implemented');
    }

    /**
     * What the customer pays: net plus tax, in cents.
     */
    public function grossTotal(): int
    {
        throw new LogicException('not implemented');
    }

    /**
     * The invoice as text (see README.md).
     */
    public function render(): string
    {
        throw new LogicException('not implemented');
    }

    /**
     * Cents as text: thousands separated by commas, two decimals, then the currency.
     */
    public static function formatMoney(int $cents, string $currency): string
    {
        throw new LogicException('not implemented');
    }

    /**
     * The due date: $netDays days after $issued, moved off weekends.
     */
    public static function dueDate(string $issued, int $netDays): string
    {
        throw new LogicException('not implemented');
    }
}
