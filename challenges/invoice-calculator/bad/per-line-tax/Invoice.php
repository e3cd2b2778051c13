<?php

declare(strict_types=1);

/**
 * One line of an invoice: what was sold, how many, at what price, taxed at what rate.
 */
final class InvoiceLine
{
    /**
     * @param int $unitPrice in cents
     * @param string $taxRate a normalised rate in percent ("20", "5.5")
     * @param int $discount a percentage from 0 to 100
     * @param int $net the line's net amount in cents, after the discount
     */
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
    /** @var list<InvoiceLine> */
    private array $lines = [];

    /**
     * @param string $currency an ISO 4217 code: three upper-case letters
     */
    public function __construct(private readonly string $currency = 'EUR')
    {
        if (preg_match('/^[A-Z]{3}$/', $currency) !== 1) {
            throw new InvalidArgumentException("currency must be three upper-case letters, got '$currency'");
        }
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
     *
     * @param int $unitPrice in cents, at least 0
     * @param string $taxRate a percentage from 0 to 100 with at most two decimals
     * @param int $discount a percentage from 0 to 100
     */
    public function addLine(
        string $description,
        int $quantity,
        int $unitPrice,
        string $taxRate,
        int $discount = 0
    ): self {
        if (trim($description) === '') {
            throw new InvalidArgumentException('description must not be empty');
        }
        if ($quantity < 1) {
            throw new InvalidArgumentException("quantity must be at least 1, got $quantity");
        }
        if ($unitPrice < 0) {
            throw new InvalidArgumentException("unitPrice must not be negative, got $unitPrice");
        }
        if ($discount < 0 || $discount > 100) {
            throw new InvalidArgumentException("discount must be from 0 to 100, got $discount");
        }
        $rate = self::normaliseRate($taxRate);
        $net = self::divideHalfUp($quantity * $unitPrice * (100 - $discount), 100);
        $this->lines[] = new InvoiceLine(trim($description), $quantity, $unitPrice, $rate, $discount, $net);
        return $this;
    }

    /**
     * The lines, in the order added.
     *
     * @return list<InvoiceLine>
     */
    public function lines(): array
    {
        return $this->lines;
    }

    /**
     * The sum of the lines' net amounts, in cents.
     */
    public function netTotal(): int
    {
        return array_sum(array_map(static fn (InvoiceLine $l): int => $l->net, $this->lines));
    }

    /**
     * Net amount and tax per rate, the rates in ascending numeric order.
     *
     * @return array<string, array{net: int, tax: int}>
     */
    public function taxBreakdown(): array
    {
        $byRate = [];
        $taxes = [];
        foreach ($this->lines as $line) {
            $byRate[$line->taxRate] = ($byRate[$line->taxRate] ?? 0) + $line->net;
            $lineTax = self::divideHalfUp($line->net * self::basisPoints($line->taxRate), 10000);
            $taxes[$line->taxRate] = ($taxes[$line->taxRate] ?? 0) + $lineTax;
        }
        uksort($byRate, static fn (string|int $a, string|int $b): int => self::basisPoints((string) $a)
            <=> self::basisPoints((string) $b));
        $out = [];
        foreach ($byRate as $rate => $net) {
            $tax = $taxes[$rate];
            $out[(string) $rate] = ['net' => $net, 'tax' => $tax];
        }
        return $out;
    }

    /**
     * The tax of every rate together, in cents.
     */
    public function taxTotal(): int
    {
        return array_sum(array_column($this->taxBreakdown(), 'tax'));
    }

    /**
     * What the customer pays: net plus tax, in cents.
     */
    public function grossTotal(): int
    {
        return $this->netTotal() + $this->taxTotal();
    }

    /**
     * The invoice as text (see README.md).
     */
    public function render(): string
    {
        $out = [];
        foreach ($this->lines as $l) {
            $discount = $l->discount > 0 ? " -{$l->discount}%" : '';
            $out[] = sprintf(
                '%d x %s @ %s%s = %s (VAT %s%%)',
                $l->quantity,
                $l->description,
                $this->money($l->unitPrice),
                $discount,
                $this->money($l->net),
                $l->taxRate,
            );
        }
        $out[] = 'Net: ' . $this->money($this->netTotal());
        foreach ($this->taxBreakdown() as $rate => $sums) {
            $out[] = sprintf('VAT %s%% on %s: %s', $rate, $this->money($sums['net']), $this->money($sums['tax']));
        }
        $out[] = 'Total: ' . $this->money($this->grossTotal());
        return implode("\n", $out);
    }

    /**
     * Cents as text: thousands separated by commas, two decimals, then the currency.
     */
    public static function formatMoney(int $cents, string $currency): string
    {
        $sign = $cents < 0 ? '-' : '';
        $abs = abs($cents);
        return sprintf('%s%s.%02d %s', $sign, number_format(intdiv($abs, 100)), $abs % 100, $currency);
    }

    /**
     * The due date: $netDays days after $issued (Y-m-d), moved to the next Monday
     * when it falls on a Saturday or a Sunday.
     */
    public static function dueDate(string $issued, int $netDays): string
    {
        $date = DateTimeImmutable::createFromFormat('!Y-m-d', $issued);
        $errors = DateTimeImmutable::getLastErrors();
        if ($date === false || ($errors !== false && $errors['warning_count'] > 0)) {
            throw new InvalidArgumentException("issued must be a date as Y-m-d, got '$issued'");
        }
        if ($netDays < 0) {
            throw new InvalidArgumentException("netDays must not be negative, got $netDays");
        }
        $due = $date->modify("+$netDays days");
        $weekday = (int) $due->format('N');
        if ($weekday >= 6) {
            $due = $due->modify('next monday');
        }
        return $due->format('Y-m-d');
    }

    private function money(int $cents): string
    {
        return self::formatMoney($cents, $this->currency);
    }

    private static function normaliseRate(string $rate): string
    {
        if (preg_match('/^(\d{1,3})(?:\.(\d{1,2}))?$/', $rate, $m) !== 1) {
            throw new InvalidArgumentException("taxRate must be a percentage like '20' or '5.5', got '$rate'");
        }
        $points = self::basisPoints($rate);
        if ($points > 10000) {
            throw new InvalidArgumentException("taxRate must be at most 100, got '$rate'");
        }
        $whole = intdiv($points, 100);
        $fraction = rtrim(sprintf('%02d', $points % 100), '0');
        return $fraction === '' ? (string) $whole : "$whole.$fraction";
    }

    private static function basisPoints(string $rate): int
    {
        [$whole, $fraction] = array_pad(explode('.', $rate, 2), 2, '');
        return (int) $whole * 100 + (int) str_pad($fraction, 2, '0');
    }

    private static function divideHalfUp(int $numerator, int $denominator): int
    {
        return intdiv(2 * $numerator + $denominator, 2 * $denominator);
    }
}
